import { z } from 'zod';
import { deploymentHash } from '../../model/canonical-hash.js';
import type { ServiceDefinition } from '../../model/service-definition.js';
import {
  type DefinitionLimits,
  definitionProblem,
  maxPlatformInstances,
} from '../../service/definition-rules.js';
import { validateDestination } from '../async/destination-record.js';
import { HttpError } from '../http/http-error.js';
import { validateScheduleEvent } from '../triggers/schedule/schedule.js';
import type { DeployInput } from './deployer.js';

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be a lowercase hex sha256');
const serviceName = z.string().regex(/^[a-zA-Z][0-9a-zA-Z-]{0,127}$/);
const stageName = z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/);
const functionKey = z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/);

// The CLI builds definitions with src/service, but this endpoint is reachable by anyone with the
// token, so the parts later layers rely on (names that become paths, numbers that become limits)
// are checked again here.
const functionSchema = z.looseObject({
  key: functionKey,
  name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/),
  handler: z.string().min(1).max(512),
  handlerFile: z.string().max(1024),
  runtime: z.string().min(1).max(64),
  runtimeFamily: z.enum(['nodejs', 'python', 'provided']),
  memorySize: z.number().int().min(128).max(10240),
  timeout: z.number().int().min(1).max(900),
  environment: z.record(z.string(), z.string()),
  events: z.array(z.looseObject({ kind: z.string() })),
});

const deployRequestSchema = z.object({
  definition: z.looseObject({
    service: serviceName,
    stage: stageName,
    region: z.string().regex(/^[a-zA-Z0-9_.-]{1,64}$/),
    provider: z.looseObject({}),
    package: z.looseObject({}),
    functions: z.record(functionKey, functionSchema),
  }),
  functionArtifacts: z.record(functionKey, sha256),
  force: z.boolean().optional(),
});

/**
 * Parses a deploy request body; the URL's service and stage must match the definition's, and
 * the definition must meet the rules the CLI checks (src/service/definition-rules.ts), with
 * concurrency bounded by this platform's instance cap.
 */
export function parseDeployRequest(
  body: unknown,
  service: string,
  stage: string,
  limits: DefinitionLimits = { maxConcurrency: maxPlatformInstances },
): DeployInput {
  const parsed = deployRequestSchema.safeParse(body);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const where = first?.path.join('.') || '(body)';
    throw new HttpError(
      400,
      'NIMBUS_DEPLOY_BAD_REQUEST',
      `${where}: ${first?.message ?? 'invalid'}`,
    );
  }
  const problem = definitionProblem(parsed.data.definition, limits);
  if (problem) {
    throw new HttpError(
      400,
      'NIMBUS_DEPLOY_BAD_REQUEST',
      `definition.${problem.path.join('.')}: ${problem.message}`,
    );
  }
  const definition = parsed.data.definition as unknown as ServiceDefinition;
  if (definition.service !== service || definition.stage !== stage) {
    throw new HttpError(
      400,
      'NIMBUS_DEPLOY_BAD_REQUEST',
      `definition is for ${definition.service}/${definition.stage}, not ${service}/${stage}`,
    );
  }
  for (const [key, fn] of Object.entries(definition.functions)) {
    if (fn.key !== key) {
      throw new HttpError(
        400,
        'NIMBUS_DEPLOY_BAD_REQUEST',
        `functions.${key}.key must be "${key}"`,
      );
    }
    fn.events.forEach((event, i) => {
      // The CLI refuses these at load; a definition sent straight to the API must not get a
      // public route because access control it asked for is not enforced yet.
      if (event.kind === 'http' || event.kind === 'httpApi') {
        const route = event as { authorizer?: unknown; private?: unknown };
        const unsafe =
          route.authorizer !== undefined && route.authorizer !== null
            ? 'authorizer'
            : route.private === true
              ? 'private'
              : undefined;
        if (unsafe) {
          throw new HttpError(
            400,
            'NIMBUS_DEPLOY_BAD_REQUEST',
            `functions.${key}.events[${i}].${event.kind}.${unsafe}: not enforced yet, so the ` +
              'route would be public; refused',
          );
        }
      }
      // A bad cron or timezone fails the deploy, not silently at fire time.
      if (event.kind !== 'schedule') return;
      try {
        validateScheduleEvent(event);
      } catch (error) {
        throw new HttpError(
          400,
          'NIMBUS_DEPLOY_BAD_REQUEST',
          `functions.${key}.events[${i}].schedule: ${(error as Error).message}`,
        );
      }
    });
    for (const [when, raw] of Object.entries(fn.destinations ?? {})) {
      try {
        if (raw !== undefined) validateDestination(raw);
      } catch (error) {
        throw new HttpError(
          400,
          'NIMBUS_DEPLOY_BAD_REQUEST',
          `functions.${key}.destinations.${when}: ${(error as Error).message}`,
        );
      }
    }
  }
  return {
    definition,
    functionArtifacts: parsed.data.functionArtifacts,
    // Computed here, never taken from the client, so the skip check cannot be fooled.
    hash: deploymentHash(definition, parsed.data.functionArtifacts),
    force: parsed.data.force ?? false,
  };
}
