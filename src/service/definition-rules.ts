/**
 * The rules a normalized ServiceDefinition must meet, checked in two places with this one
 * schema: by the CLI after it has read serverless.yml (reported at file:line) and by the deploy
 * API (400 naming the field), which anyone holding the token can call with a hand-made
 * definition. Besides what the serverless.yml schemas already say, it bounds what later layers
 * turn into paths, processes and recursion: handler paths, concurrency, environment size, routes.
 */
import { z } from 'zod';
import { isDeadLetterArn } from '../model/dead-letter-target.js';
import { isIntrinsic } from '../model/intrinsic.js';
import { maxLayersPerFunction } from '../model/layer-arn.js';
import { sqsEventSettings } from '../platform/event-sources/sqs-event.js';
import { streamEventSettings } from '../platform/event-sources/stream-event.js';
import { albRuleOf } from '../platform/gateway/alb/alb-rule-config.js';
import { domainProblems } from '../platform/gateway/custom-domains.js';
import { logSubscriptionProblem } from '../platform/observe/subscriptions/log-subscription-config.js';
import { iotRuleProblem } from '../services/iot/iot-rule-config.js';
import { snsEventSubscription } from '../services/sns/stage-subscriptions.js';
import { cognitoUserPoolEventProblem } from './events/cognito-user-pool-event.js';
import { parseS3EventConfig, S3EventConfigError } from './events/s3-event-config.js';
import { layerIds, layerRefProblem } from './normalize-layers.js';
import { protectionProblems, protectionRules } from './protection-rules.js';
import { checkRuntime } from './runtimes.js';
import { logRetentionDays } from './schema/fields.js';

/** The highest --max-instances a platform takes; the CLI checks concurrency against it. */
export const maxPlatformInstances = 10_000;
/** Lambda: all of a function's environment variables, names and values, in 4 KB. */
export const maxEnvironmentBytes = 4096;
/** Well past any real API, well short of what would overflow a recursive route match. */
export const maxRouteSegments = 64;
export const maxRoutePathLength = 2048;
const maxEventsPerFunction = 200;
const maxFunctions = 1000;

export interface DefinitionLimits {
  /** The platform's cap on instances: provisioned and reserved concurrency cannot pass it. */
  maxConcurrency: number;
}

export interface DefinitionProblem {
  /** Property path in the definition (`functions.hello.timeout` as an array). */
  path: (string | number)[];
  message: string;
}

const envName = /^[a-zA-Z]\w*$/;
/** A relative path of plain segments: no leading slash, no `.`/`..` segment, no backslash. */
const relativePath = /^(?!\/)(?!.*(?:^|\/)\.{1,2}(?:\/|$))[^\\\0]+$/;
/** `path/to/module.export`: no `..` segment, no absolute path. */
const handlerRef = /^(?!\/)(?!.*(?:^|\/)\.\.(?:\/|$))[\w@$./-]+\.[A-Za-z_$][\w$]*$/;

/** Numbers as the normalized definition holds them: no string coercion here. */
function int(min: number, max: number, words: { tooHigh?: string } = {}) {
  const msg = `must be an integer from ${min} to ${max}`;
  return z
    .number({ error: msg })
    .int({ error: msg })
    .min(min, { error: msg })
    .max(max, { error: words.tooHigh ?? msg });
}

function functionRules(limits: DefinitionLimits) {
  const concurrency = int(0, limits.maxConcurrency, {
    tooHigh: `must be at most ${limits.maxConcurrency}, the platform's instance cap (--max-instances)`,
  }).optional();
  return z
    .looseObject({
      name: z.string().optional(),
      handler: z.string().min(1).max(512),
      handlerFile: z.string().max(1024),
      runtime: z.string(),
      runtimeFamily: z.enum(['nodejs', 'python', 'provided']),
      memorySize: int(128, 10240),
      timeout: int(1, 900),
      environment: z.record(
        z.string().regex(envName, {
          error: 'environment variable names are letters, digits and _, starting with a letter',
        }),
        z.string(),
      ),
      events: z.array(z.looseObject({ kind: z.string() })).max(maxEventsPerFunction),
      maximumRetryAttempts: int(0, 8).optional(),
      maximumEventAge: int(60, 86400).optional(),
      reservedConcurrency: concurrency,
      provisionedConcurrency: concurrency,
      concurrency: int(1, 1000).optional(),
      logRetentionInDays: logRetentionDays.optional(),
      deadLetterTarget: z
        .string()
        .refine(isDeadLetterArn, { error: 'must be an SNS topic or SQS queue ARN' })
        .optional(),
      unresolvedDestinations: z
        .looseObject({
          onSuccess: z.custom<Record<string, unknown>>(isIntrinsic).optional(),
          onFailure: z.custom<Record<string, unknown>>(isIntrinsic).optional(),
        })
        .optional(),
      unresolvedDeadLetterTarget: z
        .custom<Record<string, unknown>>(isIntrinsic, {
          error: 'must be Fn::GetAtt / Ref of a queue or topic',
        })
        .optional(),
      layers: z
        .array(z.unknown(), { error: 'must be a list of layer references' })
        .max(maxLayersPerFunction, {
          error: `a function may use at most ${maxLayersPerFunction} layers`,
        })
        .optional(),
    })
    .superRefine((fn, ctx) => {
      const runtime = checkRuntime(fn.runtime);
      if (!runtime.ok || runtime.family !== fn.runtimeFamily) {
        ctx.addIssue({
          code: 'custom',
          path: ['runtime'],
          message: runtime.ok
            ? `runtime ${fn.runtime} is not of the ${fn.runtimeFamily} family`
            : runtime.message,
        });
      }
      if (fn.runtimeFamily !== 'provided' && !handlerRef.test(fn.handler)) {
        ctx.addIssue({
          code: 'custom',
          path: ['handler'],
          message: 'must be a relative path.export (no absolute path, no .. segment)',
        });
      }
      if (fn.concurrency !== undefined && fn.concurrency > 1 && fn.runtimeFamily !== 'nodejs') {
        ctx.addIssue({
          code: 'custom',
          path: ['concurrency'],
          message: `a ${fn.runtimeFamily} instance serves one request at a time; only Node.js functions may set more than 1`,
        });
      }
      if (fn.handlerFile !== '' && !relativePath.test(fn.handlerFile)) {
        ctx.addIssue({
          code: 'custom',
          path: ['handlerFile'],
          message: 'must be a relative path inside the service (no absolute path, no .. segment)',
        });
      }
      const envBytes = Object.entries(fn.environment).reduce(
        (sum, [k, v]) => sum + Buffer.byteLength(k) + Buffer.byteLength(v),
        0,
      );
      if (envBytes > maxEnvironmentBytes) {
        ctx.addIssue({
          code: 'custom',
          path: ['environment'],
          message: `takes ${envBytes} bytes; Lambda's limit is ${maxEnvironmentBytes} for all names and values together`,
        });
      }
      fn.events.forEach((event, i) => {
        if (event.kind === 'cognitoUserPool') {
          const problem = cognitoUserPoolEventProblem(
            (event as { config?: Record<string, unknown> }).config ?? {},
          );
          if (problem) {
            ctx.addIssue({
              code: 'custom',
              path: ['events', i, 'cognitoUserPool', problem.field],
              message: problem.message,
            });
          }
          return;
        }
        if (event.kind === 's3') {
          const problem = s3EventProblem((event as { config?: unknown }).config);
          if (problem)
            ctx.addIssue({ code: 'custom', path: ['events', i, 's3'], message: problem });
          return;
        }
        if (event.kind === 'stream') {
          const result = streamEventSettings(
            (event as { config?: Record<string, unknown> }).config ?? {},
            { unresolvedArn: 'allow' },
          );
          if (!result.ok) {
            for (const p of result.problems) {
              ctx.addIssue({
                code: 'custom',
                path: ['events', i, 'stream', p.field],
                message: p.message,
              });
            }
          }
          return;
        }
        if (event.kind === 'sqs') {
          const result = sqsEventSettings(
            (event as { config?: Record<string, unknown> }).config ?? {},
            { unresolvedArn: 'allow' },
          );
          if (!result.ok) {
            for (const p of result.problems) {
              ctx.addIssue({
                code: 'custom',
                path: ['events', i, 'sqs', p.field],
                message: p.message,
              });
            }
          }
          return;
        }
        if (event.kind === 'sns') {
          // Topic names, filter policies and redrive targets are checked before anything deploys.
          try {
            snsEventSubscription((event as { config?: Record<string, unknown> }).config ?? {});
          } catch (error) {
            ctx.addIssue({
              code: 'custom',
              path: ['events', i, 'sns'],
              message: (error as Error).message,
            });
          }
          return;
        }
        if (event.kind === 'alb') {
          const read = albRuleOf((event as { config?: Record<string, unknown> }).config ?? {});
          if (!read.ok) {
            for (const p of read.problems) {
              ctx.addIssue({
                code: 'custom',
                path: ['events', i, 'alb', ...p.field.split('.')],
                message: p.message,
              });
            }
          }
          return;
        }
        if (event.kind === 'iot' || event.kind === 'cloudwatchLog') {
          // Bad SQL and malformed filter patterns are refused before anything deploys.
          const config = (event as { config?: Record<string, unknown> }).config ?? {};
          const problem =
            event.kind === 'iot'
              ? iotRuleProblem(config)
              : logSubscriptionProblem(config, typeof fn.name === 'string' ? fn.name : undefined);
          if (problem)
            ctx.addIssue({ code: 'custom', path: ['events', i, event.kind], message: problem });
          return;
        }
        if (event.kind !== 'http' && event.kind !== 'httpApi') return;
        const path = (event as { path?: unknown }).path;
        const problem = routePathProblem(path);
        if (problem) {
          ctx.addIssue({
            code: 'custom',
            path: ['events', i, event.kind, 'path'],
            message: problem,
          });
        }
      });
    });
}

function s3EventProblem(config: unknown): string | undefined {
  if (config === null || typeof config !== 'object') return 'must be a map with a bucket';
  // `bucket: {Ref: ...}` is resolved by the platform at deploy, then checked again there.
  if (isIntrinsic((config as { bucket?: unknown }).bucket)) return undefined;
  try {
    parseS3EventConfig(config as Record<string, unknown>);
    return undefined;
  } catch (error) {
    if (error instanceof S3EventConfigError) return error.message;
    throw error;
  }
}

function routePathProblem(path: unknown): string | undefined {
  if (typeof path !== 'string') return 'must be a string';
  if (path.length > maxRoutePathLength) {
    return `is ${path.length} characters long; at most ${maxRoutePathLength}`;
  }
  const segments = path.split('/').filter(Boolean).length;
  if (segments > maxRouteSegments) return `has ${segments} segments; at most ${maxRouteSegments}`;
  return undefined;
}

/**
 * ELB holds one rule per priority on a listener: a second `alb` event with the same listener
 * and priority (CloudFormation's PriorityInUse) is refused where it is written.
 */
function albPriorityProblems(
  functions: Record<string, { events: { kind: string }[] }>,
): { code: 'custom'; path: (string | number)[]; message: string }[] {
  const problems: { code: 'custom'; path: (string | number)[]; message: string }[] = [];
  const held = new Map<string, string>();
  for (const [key, fn] of Object.entries(functions)) {
    fn.events.forEach((event, i) => {
      if (event.kind !== 'alb') return;
      const read = albRuleOf((event as { config?: Record<string, unknown> }).config ?? {});
      if (!read.ok) return;
      const slot = `${read.rule.listener} ${read.rule.priority}`;
      const holder = held.get(slot);
      if (holder === undefined) {
        held.set(slot, key);
        return;
      }
      problems.push({
        code: 'custom',
        path: ['functions', key, 'events', i, 'alb', 'priority'],
        message: `priority ${read.rule.priority} is already used on this listener by function "${holder}"; each rule of a listener needs its own priority`,
      });
    });
  }
  return problems;
}

export function definitionRules(limits: DefinitionLimits) {
  return z
    .looseObject({
      functions: z
        .record(z.string(), functionRules(limits))
        .refine((fns) => Object.keys(fns).length <= maxFunctions, {
          error: `at most ${maxFunctions} functions per service`,
        }),
      custom: z.looseObject({ nimbus: protectionRules.optional() }).optional(),
      provider: z.looseObject({ logRetentionInDays: logRetentionDays.optional() }).optional(),
      layers: z.record(z.string(), z.looseObject({})).optional(),
      stage: z.string().optional(),
    })
    .superRefine((definition, ctx) => {
      const ids = layerIds(definition.layers as Record<string, never> | undefined);
      for (const [key, fn] of Object.entries(definition.functions)) {
        (fn.layers ?? []).forEach((ref, i) => {
          const problem = layerRefProblem(ref, ids);
          if (problem) {
            ctx.addIssue({
              code: 'custom',
              path: ['functions', key, 'layers', i],
              message: problem,
            });
          }
        });
      }
      for (const problem of albPriorityProblems(definition.functions)) ctx.addIssue(problem);
      for (const problem of domainProblems(definition.custom ?? {}, definition.stage ?? '')) {
        ctx.addIssue({ code: 'custom', ...problem });
      }
      const nimbus = definition.custom?.nimbus;
      if (!nimbus) return;
      for (const problem of protectionProblems(
        nimbus,
        new Set(Object.keys(definition.functions)),
      )) {
        ctx.addIssue({
          code: 'custom',
          path: ['custom', 'nimbus', ...problem.path],
          message: problem.message,
        });
      }
    });
}

/** The first rule the definition breaks, or undefined. */
export function definitionProblem(
  definition: unknown,
  limits: DefinitionLimits,
): DefinitionProblem | undefined {
  // Schemas built per call, parsed once: jitless (see validate.ts).
  const result = definitionRules(limits).safeParse(definition, { jitless: true });
  if (result.success) return undefined;
  const issue = result.error.issues[0]!;
  return {
    path: issue.path.map((k) => (typeof k === 'number' ? k : String(k))),
    message: issue.message,
  };
}
