import { z } from 'zod';
import { deploymentHash } from '../../model/canonical-hash.js';
import { layerNamePattern } from '../../model/layer-arn.js';
import type {
  FunctionDefinition,
  HttpApiEvent,
  HttpEvent,
  ServiceDefinition,
} from '../../model/service-definition.js';
import {
  type DefinitionLimits,
  definitionProblem,
  maxPlatformInstances,
} from '../../service/definition-rules.js';
import { validateDestination } from '../async/destination-record.js';
import { TemplateError } from '../aws/resources/template-error.js';
import { AccessConfigError, compileRouteAccess } from '../gateway/access/route-access.js';
import { compileStageUsage } from '../gateway/access/usage-plan-config.js';
import { HttpError } from '../http/http-error.js';
import { validateScheduleEvent } from '../triggers/schedule/schedule.js';
import type { DeployFunctionInput, DeployInput } from './deployer.js';

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

const layerKey = z.string().regex(/^[a-zA-Z0-9_-]{1,128}$/);
const layerSchema = z.looseObject({
  key: layerKey,
  name: z.string().regex(layerNamePattern),
  artifact: sha256,
  retain: z.boolean(),
});

const deployRequestSchema = z.object({
  definition: z.looseObject({
    service: serviceName,
    stage: stageName,
    region: z.string().regex(/^[a-zA-Z0-9_.-]{1,64}$/),
    provider: z.looseObject({}),
    package: z.looseObject({}),
    functions: z.record(functionKey, functionSchema),
    layers: z.record(layerKey, layerSchema).optional(),
  }),
  functionArtifacts: z.record(functionKey, sha256),
  force: z.boolean().optional(),
});

const deployFunctionSchema = z
  .object({
    artifact: sha256.optional(),
    config: functionSchema.optional(),
    force: z.boolean().optional(),
  })
  .refine((b) => (b.artifact === undefined) !== (b.config === undefined), {
    message: 'give exactly one of artifact (new code) or config (new configuration)',
  });

/** `POST .../functions/{key}/deployments`: new code or new configuration for one function. */
export function parseDeployFunctionRequest(
  body: unknown,
  where: { service: string; stage: string; key: string },
): DeployFunctionInput {
  const data = parseOrThrow(deployFunctionSchema, body);
  if (data.config && data.config.key !== where.key) {
    throw new HttpError(400, 'NIMBUS_DEPLOY_BAD_REQUEST', `config.key must be "${where.key}"`);
  }
  return {
    ...where,
    ...(data.artifact ? { artifact: data.artifact } : {}),
    ...(data.config ? { config: data.config as unknown as FunctionDefinition } : {}),
    force: data.force ?? false,
  };
}

const rollbackSchema = z.object({ timestamp: z.number().int().positive() });
const rollbackFunctionSchema = z.object({ version: z.number().int().positive() });

export function parseRollbackRequest(body: unknown): { timestamp: number } {
  return parseOrThrow(rollbackSchema, body);
}

export function parseRollbackFunctionRequest(body: unknown): { version: number } {
  return parseOrThrow(rollbackFunctionSchema, body);
}

function parseOrThrow<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const first = parsed.error.issues[0];
  const where = first?.path.join('.') || '(body)';
  throw new HttpError(400, 'NIMBUS_DEPLOY_BAD_REQUEST', `${where}: ${first?.message ?? 'invalid'}`);
}

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
  /**
   * Evaluates `resources` and every intrinsic in the definition (src/platform/aws/resources);
   * what it returns is what gets recorded. Throws TemplateError to refuse.
   */
  resolve: (definition: ServiceDefinition) => ServiceDefinition = (d) => d,
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
  const asked = parsed.data.definition as unknown as ServiceDefinition;
  if (asked.service !== service || asked.stage !== stage) {
    throw new HttpError(
      400,
      'NIMBUS_DEPLOY_BAD_REQUEST',
      `definition is for ${asked.service}/${asked.stage}, not ${service}/${stage}`,
    );
  }
  const definition = resolveOrRefuse(resolve, asked);
  checkDefinition(definition, limits);
  return {
    definition,
    functionArtifacts: parsed.data.functionArtifacts,
    // Computed here, never taken from the client, so the skip check cannot be fooled.
    hash: deploymentHash(definition, parsed.data.functionArtifacts),
    force: parsed.data.force ?? false,
  };
}

/** Runs `resolve`, turning a TemplateError into a 400 naming the field (the CLI locates it). */
export function resolveOrRefuse<T>(
  resolve: (definition: ServiceDefinition) => T,
  definition: ServiceDefinition,
): T {
  try {
    return resolve(definition);
  } catch (error) {
    if (!(error instanceof TemplateError)) throw error;
    throw new HttpError(
      400,
      'NIMBUS_DEPLOY_BAD_REQUEST',
      `definition.${error.path}: ${error.detail}`,
    );
  }
}

/**
 * The rules every definition the platform records must meet, whoever assembled it: a deploy
 * request, or the platform itself (`deploy function` on top of the current deployment).
 * Throws a 400 naming the field.
 */
export function checkDefinition(
  definition: ServiceDefinition,
  limits: DefinitionLimits = { maxConcurrency: maxPlatformInstances },
): void {
  const problem = definitionProblem(definition, limits);
  if (problem) {
    throw new HttpError(
      400,
      'NIMBUS_DEPLOY_BAD_REQUEST',
      `definition.${problem.path.join('.')}: ${problem.message}`,
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
      // An authorizer the gateway could not enforce fails the deploy: the route must never
      // come up public because its protection was misconfigured.
      if (event.kind === 'http' || event.kind === 'httpApi') {
        try {
          compileRouteAccess(definition, event as HttpEvent | HttpApiEvent);
        } catch (error) {
          if (!(error instanceof AccessConfigError)) throw error;
          throw new HttpError(
            400,
            'NIMBUS_DEPLOY_BAD_REQUEST',
            `functions.${key}.events[${i}].${event.kind}.authorizer: ${error.message}`,
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
  try {
    compileStageUsage(definition);
  } catch (error) {
    if (!(error instanceof AccessConfigError)) throw error;
    throw new HttpError(400, 'NIMBUS_DEPLOY_BAD_REQUEST', `provider.apiGateway.${error.message}`);
  }
}
