/**
 * Lambda's event source mapping operations (`/2015-03-31/event-source-mappings/`): Create, Get,
 * Update, Delete and List, over the same Store rows the serverless.yml `sqs` events become, so
 * mappings from either side show up in both (docs/lambda-api.md#event-source-mappings). SQS
 * queues, DynamoDB table streams and Kinesis streams are served.
 */
import { randomUUID } from 'node:crypto';
import { NIMBUS_ACCOUNT_ID } from '../../model/account.js';
import type { Clock } from '../../model/clock.js';
import {
  type Mapping,
  type MappingSettings,
  parseDynamoStreamArn,
  parseKinesisStreamArn,
  parseSqsArn,
  sqsDefaults,
  sqsSettingsProblems,
  streamDefaults,
  streamSettingsProblems,
} from '../event-sources/mapping.js';
import type { MappingStore } from '../event-sources/mapping-store.js';
import { FunctionNotFoundError, type Invoker } from '../invoker/invoker-port.js';
import { functionArn, parseFunctionAddress } from './function-name.js';
import type { OperationAnswer, OperationRequest } from './function-operations.js';
import { invalidParameter, LambdaApiError, validationError } from './lambda-error.js';

export interface MappingOperationsDeps {
  mappings: Pick<MappingStore, 'list' | 'get' | 'insert' | 'update' | 'delete'>;
  /** Confirms the function (and qualifier) exists. */
  invoker: Pick<Invoker, 'resolve'>;
  /** Whether an SQS queue of that name exists. */
  queueExists: (name: string) => Promise<boolean>;
  /** Whether a DynamoDB or Kinesis stream of that ARN exists. */
  streamExists?: (arn: string) => Promise<boolean>;
  clock: Clock;
  /** Tells the engine the mappings changed (it re-reads the Store). */
  onChange: () => Promise<void>;
}

const collectionPath = /^\/2015-03-31\/event-source-mappings\/?$/;
const itemPath = /^\/2015-03-31\/event-source-mappings\/([^/]+)\/?$/;
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Fields Lambda takes for stream sources only; on SQS it refuses them. */
const streamOnly = [
  'StartingPosition',
  'StartingPositionTimestamp',
  'MaximumRetryAttempts',
  'MaximumRecordAgeInSeconds',
  'BisectBatchOnFunctionError',
  'ParallelizationFactor',
  'DestinationConfig',
  'TumblingWindowInSeconds',
];

export function createMappingOperations(deps: MappingOperationsDeps) {
  /** Undefined: not one of these operations. */
  return async function operate(r: OperationRequest): Promise<OperationAnswer | undefined> {
    if (collectionPath.test(r.path)) {
      if (r.method === 'POST') return create(r);
      if (r.method === 'GET') return list(r);
      return undefined;
    }
    const m = itemPath.exec(r.path);
    if (!m) return undefined;
    const uuid = decodeURIComponent(m[1]!);
    switch (r.method) {
      case 'GET':
        return { status: 200, body: view(await existing(uuid), r.region) };
      case 'PUT':
        return update(r, uuid);
      case 'DELETE': {
        const mapping = await existing(uuid);
        await deps.mappings.delete(uuid);
        await deps.onChange();
        return { status: 202, body: view(mapping, r.region, 'Deleting') };
      }
      default:
        return undefined;
    }
  };

  async function existing(uuid: string): Promise<Mapping> {
    const mapping = uuidPattern.test(uuid) ? await deps.mappings.get(uuid) : undefined;
    if (!mapping) {
      throw new LambdaApiError(
        404,
        'ResourceNotFoundException',
        'The resource you requested does not exist.',
      );
    }
    return mapping;
  }

  async function create(r: OperationRequest): Promise<OperationAnswer> {
    const input = jsonBody(r.body);
    const sourceArn = requiredString(input, 'EventSourceArn');
    const queue = parseSqsArn(sourceArn);
    const stream = queue
      ? undefined
      : (parseDynamoStreamArn(sourceArn) ?? parseKinesisStreamArn(sourceArn));
    if (!queue && !stream) {
      throw invalidParameter(
        `Unrecognized event source, must be kinesis, dynamodb stream or sqs: ${sourceArn}`,
      );
    }
    if (queue) refuseStreamOnly(input);
    else if (typeof input.StartingPosition !== 'string') {
      throw invalidParameter('StartingPosition must be provided for a stream event source.');
    }
    const target = await functionOf(requiredString(input, 'FunctionName'), r.region);
    if (queue && !(await deps.queueExists(queue.queue))) {
      throw invalidParameter(
        `Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The specified queue does not exist: ${sourceArn}`,
      );
    }
    if (stream && !(await deps.streamExists?.(sourceArn))) {
      throw invalidParameter(`Stream not found: ${sourceArn}`);
    }
    const settings = queue
      ? settingsFrom(input, sqsDefaults)
      : settingsFrom(
          input,
          streamDefaults,
          parseKinesisStreamArn(sourceArn) ? 'kinesis' : 'dynamodb',
        );
    const mapping: Mapping = {
      ...settings,
      uuid: randomUUID(),
      functionName: target.name,
      ...(target.qualifier === undefined ? {} : { qualifier: target.qualifier }),
      sourceArn,
      origin: 'api',
      lastModified: deps.clock.now(),
    };
    if (!(await deps.mappings.insert(mapping))) {
      const other = (await deps.mappings.list()).find(
        (m) => m.functionName === target.name && m.sourceArn === sourceArn,
      );
      throw new LambdaApiError(
        409,
        'ResourceConflictException',
        `An event source mapping with SQS arn (" ${sourceArn} ") and function (" ${target.name} ") already exists. Please update or delete the existing mapping with UUID ${other?.uuid ?? ''}`,
      );
    }
    await deps.onChange();
    return { status: 202, body: view(mapping, r.region, 'Creating') };
  }

  async function update(r: OperationRequest, uuid: string): Promise<OperationAnswer> {
    const old = await existing(uuid);
    const input = jsonBody(r.body);
    const isStream = parseSqsArn(old.sourceArn) === undefined;
    if (!isStream) refuseStreamOnly(input);
    for (const name of ['StartingPosition', 'StartingPositionTimestamp']) {
      if (isStream && input[name] !== undefined) {
        throw invalidParameter(`${name} cannot be changed on an existing mapping.`);
      }
    }
    const kind = !isStream
      ? 'queue'
      : parseKinesisStreamArn(old.sourceArn)
        ? 'kinesis'
        : 'dynamodb';
    const fn = stringField(input, 'FunctionName');
    const target = fn === undefined ? undefined : await functionOf(fn, r.region);
    const next: Mapping = {
      ...old,
      ...settingsFrom(input, old, kind),
      ...(target ? { functionName: target.name, qualifier: target.qualifier } : {}),
      lastModified: deps.clock.now(),
    };
    if (target && target.qualifier === undefined) delete next.qualifier;
    if (target && target.name !== old.functionName) {
      // Moving to another function is a new row key; Lambda keeps the UUID.
      const clash = (await deps.mappings.list()).find(
        (m) => m.uuid !== uuid && m.functionName === target.name && m.sourceArn === old.sourceArn,
      );
      if (clash) {
        throw new LambdaApiError(
          409,
          'ResourceConflictException',
          `The function ${target.name} already has a mapping of ${old.sourceArn}: ${clash.uuid}`,
        );
      }
      await deps.mappings.delete(uuid, { keepPositions: true });
      await deps.mappings.insert(next);
    } else {
      await deps.mappings.update(next);
    }
    await deps.onChange();
    return { status: 202, body: view(next, r.region, 'Updating') };
  }

  async function list(r: OperationRequest): Promise<OperationAnswer> {
    const source = r.query.get('EventSourceArn');
    const fn = r.query.get('FunctionName');
    const name = fn === null ? undefined : parseFunctionAddress(encodeURIComponent(fn), null);
    const all = (await deps.mappings.list()).filter(
      (m) =>
        (source === null || m.sourceArn === source) &&
        (name === undefined ||
          (m.functionName === name.name &&
            (name.qualifier === undefined || m.qualifier === name.qualifier))),
    );
    const marker = r.query.get('Marker');
    const start = marker === null ? 0 : Number(marker);
    if (!Number.isInteger(start) || start < 0 || start > all.length) {
      throw invalidParameter(`Invalid Marker: ${marker}`);
    }
    const maxText = r.query.get('MaxItems');
    const max = maxText === null ? 100 : Number(maxText);
    if (!Number.isInteger(max) || max < 1 || max > 10000) {
      throw validationError(
        String(maxText),
        'maxItems',
        'Member must have value between 1 and 10000',
      );
    }
    const end = start + max;
    return {
      status: 200,
      body: {
        EventSourceMappings: all.slice(start, end).map((m) => view(m, r.region)),
        ...(end < all.length ? { NextMarker: String(end) } : {}),
      },
    };
  }

  async function functionOf(raw: string, region: string) {
    const address = parseFunctionAddress(encodeURIComponent(raw), null);
    try {
      await deps.invoker.resolve(address.name, address.qualifier);
    } catch (error) {
      if (error instanceof FunctionNotFoundError) {
        throw new LambdaApiError(
          404,
          'ResourceNotFoundException',
          `Function does not exist: ${functionArn(address.region ?? region, address)}`,
        );
      }
      throw error;
    }
    return address;
  }
}

/** The settings an input names, over `base`; refused with Lambda's exceptions. */
function settingsFrom(
  input: Record<string, unknown>,
  base: MappingSettings,
  kind: 'queue' | 'kinesis' | 'dynamodb' = 'queue',
): MappingSettings {
  const out: MappingSettings = { ...base };
  if (kind !== 'queue') streamSettingsFrom(input, out);
  const batchSize = intField(input, 'BatchSize');
  if (batchSize !== undefined) out.batchSize = batchSize;
  const window = intField(input, 'MaximumBatchingWindowInSeconds');
  if (window !== undefined) out.maximumBatchingWindowInSeconds = window;
  if (input.Enabled !== undefined && input.Enabled !== null) {
    if (typeof input.Enabled !== 'boolean') throw invalidParameter('Enabled must be a boolean.');
    out.enabled = input.Enabled;
  }
  if (input.FunctionResponseTypes !== undefined && input.FunctionResponseTypes !== null) {
    const types = input.FunctionResponseTypes;
    if (!Array.isArray(types) || types.some((t) => t !== 'ReportBatchItemFailures')) {
      throw validationError(
        JSON.stringify(types),
        'functionResponseTypes',
        'Member must satisfy constraint: [Member must satisfy enum value set: [ReportBatchItemFailures]]',
      );
    }
    out.functionResponseTypes = [...new Set(types as string[])];
  }
  const filters = input.FilterCriteria;
  if (filters !== undefined && filters !== null) {
    const list = (filters as { Filters?: unknown }).Filters ?? [];
    if (!Array.isArray(list)) throw invalidParameter('FilterCriteria.Filters must be a list.');
    out.filters = list.map((f) => {
      const pattern = (f as { Pattern?: unknown } | null)?.Pattern;
      if (typeof pattern !== 'string')
        throw invalidParameter('Each filter needs a Pattern string.');
      return pattern;
    });
  }
  const scaling = input.ScalingConfig;
  if (scaling !== undefined && scaling !== null) {
    const max = (scaling as { MaximumConcurrency?: unknown }).MaximumConcurrency;
    if (max === undefined || max === null) delete out.maximumConcurrency;
    else if (typeof max !== 'number')
      throw invalidParameter('MaximumConcurrency must be a number.');
    else out.maximumConcurrency = max;
  }
  const problems = kind === 'queue' ? sqsSettingsProblems(out) : streamSettingsProblems(out, kind);
  if (problems.length > 0) throw invalidParameter(problems[0]!);
  return out;
}

/** The stream-only fields, over `out`. */
function streamSettingsFrom(input: Record<string, unknown>, out: MappingSettings): void {
  if (typeof input.StartingPosition === 'string') out.startingPosition = input.StartingPosition;
  const retries = intField(input, 'MaximumRetryAttempts');
  if (retries !== undefined) out.maximumRetryAttempts = retries;
  const age = intField(input, 'MaximumRecordAgeInSeconds');
  if (age !== undefined) out.maximumRecordAgeInSeconds = age;
  if (input.BisectBatchOnFunctionError !== undefined && input.BisectBatchOnFunctionError !== null) {
    if (typeof input.BisectBatchOnFunctionError !== 'boolean') {
      throw invalidParameter('BisectBatchOnFunctionError must be a boolean.');
    }
    out.bisectBatchOnFunctionError = input.BisectBatchOnFunctionError;
  }
  const factor = intField(input, 'ParallelizationFactor');
  if (factor === 1) delete out.parallelizationFactor;
  else if (factor !== undefined) out.parallelizationFactor = factor;
  const at = input.StartingPositionTimestamp;
  if (at !== undefined && at !== null) {
    // The SDKs send a timestamp as epoch seconds.
    if (typeof at !== 'number') {
      throw invalidParameter('StartingPositionTimestamp must be a time in epoch seconds.');
    }
    out.startingPositionTimestamp = at;
  }
  if (input.TumblingWindowInSeconds !== undefined && input.TumblingWindowInSeconds !== null) {
    throw invalidParameter('TumblingWindowInSeconds is not supported by Nimbus yet.');
  }
  const config = input.DestinationConfig as { OnFailure?: { Destination?: unknown } } | undefined;
  if (config !== undefined && config !== null) {
    const destination = config.OnFailure?.Destination;
    if (destination === undefined || destination === null || destination === '') {
      delete out.onFailure;
    } else if (typeof destination !== 'string') {
      throw invalidParameter('DestinationConfig.OnFailure.Destination must be a string.');
    } else {
      out.onFailure = destination;
    }
  }
}

/** EventSourceMappingConfiguration, as Lambda answers it. */
function view(m: Mapping, region: string, state?: string) {
  return {
    UUID: m.uuid,
    BatchSize: m.batchSize,
    MaximumBatchingWindowInSeconds: m.maximumBatchingWindowInSeconds,
    EventSourceArn: m.sourceArn,
    EventSourceMappingArn: `arn:aws:lambda:${region}:${NIMBUS_ACCOUNT_ID}:event-source-mapping:${m.uuid}`,
    FunctionArn: functionArn(region, {
      name: m.functionName,
      ...(m.qualifier === undefined ? {} : { qualifier: m.qualifier }),
    }),
    // Epoch seconds: the SDKs read JSON timestamps so.
    LastModified: m.lastModified / 1000,
    State: state ?? (m.enabled ? 'Enabled' : 'Disabled'),
    StateTransitionReason: 'USER_INITIATED',
    FunctionResponseTypes: m.functionResponseTypes,
    ...(m.filters.length > 0
      ? { FilterCriteria: { Filters: m.filters.map((Pattern) => ({ Pattern })) } }
      : {}),
    ...(m.maximumConcurrency === undefined
      ? {}
      : { ScalingConfig: { MaximumConcurrency: m.maximumConcurrency } }),
    ...(parseSqsArn(m.sourceArn)
      ? {}
      : {
          StartingPosition: m.startingPosition,
          MaximumRetryAttempts: m.maximumRetryAttempts,
          MaximumRecordAgeInSeconds: m.maximumRecordAgeInSeconds,
          BisectBatchOnFunctionError: m.bisectBatchOnFunctionError,
          ...(m.startingPositionTimestamp === undefined
            ? {}
            : { StartingPositionTimestamp: m.startingPositionTimestamp }),
          ParallelizationFactor: m.parallelizationFactor ?? 1,
          DestinationConfig: { OnFailure: m.onFailure ? { Destination: m.onFailure } : {} },
        }),
  };
}

function refuseStreamOnly(input: Record<string, unknown>): void {
  for (const name of streamOnly) {
    if (input[name] !== undefined && input[name] !== null) {
      throw invalidParameter(`Unsupported ${name} parameter for given event source mapping type.`);
    }
  }
}

function jsonBody(body: Buffer): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
  } catch {
    throw invalidParameter('The request body is not valid JSON.');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw invalidParameter('The request body must be a JSON object.');
  }
  return parsed as Record<string, unknown>;
}

function stringField(input: Record<string, unknown>, name: string): string | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalidParameter(`${name} must be a string.`);
  return value;
}

function requiredString(input: Record<string, unknown>, name: string): string {
  const value = stringField(input, name);
  if (value === undefined) {
    const field = name.charAt(0).toLowerCase() + name.slice(1);
    throw validationError('null', field, 'Member must not be null');
  }
  return value;
}

function intField(input: Record<string, unknown>, name: string): number | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw invalidParameter(`${name} must be an integer.`);
  }
  return value;
}
