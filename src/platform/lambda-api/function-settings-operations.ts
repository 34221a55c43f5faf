/**
 * Lambda's tags (TagResource / UntagResource / ListTags) and asynchronous invocation settings
 * (Put/Update/Get/DeleteFunctionEventInvokeConfig). Both are function configuration in Nimbus,
 * changed as `deploy function --update-config` changes it (one Deployer transaction); the async
 * path reads MaximumRetryAttempts, MaximumEventAgeInSeconds and the destinations from the
 * version the stage serves (docs/async.md).
 */
import type { FunctionDefinition } from '../../model/service-definition.js';
import { validateDestination } from '../async/destination-record.js';
import { tagMap } from './function-lifecycle-operations.js';
import { parseFunctionAddress } from './function-name.js';
import {
  jsonBody,
  notFound,
  type OperationAnswer,
  type OperationRequest,
} from './function-operations.js';
import { createReconfigurer, type ReconfigureDeps } from './function-reconfigure.js';
import { arnOf, type FunctionContext } from './function-views.js';
import { invalidParameter, LambdaApiError, validationError } from './lambda-error.js';

export type FunctionSettingsDeps = ReconfigureDeps;

const tagsPath = /^\/2017-03-31\/tags\/([^/]+)\/?$/;
const invokeConfigPath = /^\/2019-09-25\/functions\/([^/]+)\/event-invoke-config\/?$/;
/** Lambda's bounds (Nimbus's serverless.yml allows more retries; the API keeps Lambda's). */
const maxRetryAttempts = 2;
const minEventAge = 60;
const maxEventAge = 21600;

export function createFunctionSettingsOperations(deps: FunctionSettingsDeps) {
  const { deployed, reconfigure } = createReconfigurer(deps);

  return async function operate(r: OperationRequest): Promise<OperationAnswer | undefined> {
    const tags = tagsPath.exec(r.path);
    if (tags) return tagOperation(r, tags[1]!);
    const config = invokeConfigPath.exec(r.path);
    if (config) return invokeConfigOperation(r, config[1]!);
    return undefined;
  };

  async function tagOperation(r: OperationRequest, rawArn: string) {
    let arn: string;
    try {
      arn = decodeURIComponent(rawArn);
    } catch {
      arn = rawArn;
    }
    if (!/^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:[a-zA-Z0-9_-]+$/.test(arn)) {
      throw validationError(
        arn,
        'resource',
        'Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*):lambda:[a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\\d{1}:\\d{12}:function:[a-zA-Z0-9-_]+',
      );
    }
    const name = parseFunctionAddress(encodeURIComponent(arn), null).name;
    if (r.method === 'GET') {
      const { current } = await deployed(r, name);
      return { status: 200, body: { Tags: current.tags ?? {} } };
    }
    if (r.method === 'POST') {
      const added = tagMap(jsonBody(r.body).Tags);
      if (!added) throw validationError('null', 'tags', 'Member must not be null');
      await reconfigure(r, name, (config) => ({
        ...config,
        tags: { ...config.tags, ...added },
      }));
      return { status: 204 };
    }
    if (r.method === 'DELETE') {
      const keys = r.query.getAll('tagKeys');
      if (keys.length === 0) throw validationError('null', 'tagKeys', 'Member must not be null');
      await reconfigure(r, name, ({ tags, ...config }) => {
        const kept = Object.fromEntries(
          Object.entries(tags ?? {}).filter(([k]) => !keys.includes(k)),
        );
        return Object.keys(kept).length > 0 ? { ...config, tags: kept } : config;
      });
      return { status: 204 };
    }
    return undefined;
  }

  async function invokeConfigOperation(r: OperationRequest, rawName: string) {
    const address = parseFunctionAddress(rawName, r.query.get('Qualifier'));
    if (address.qualifier !== undefined && address.qualifier !== '$LATEST') {
      throw invalidParameter(
        'Nimbus keeps one asynchronous invocation configuration per function: omit the Qualifier (or use $LATEST).',
      );
    }
    const { ctx, current, deployment } = await deployed(r, address.name);
    if (r.method === 'GET') {
      if (!hasInvokeConfig(current)) {
        throw notFound(`The function ${arnOf(ctx)} doesn't have an EventInvokeConfig`);
      }
      return { status: 200, body: invokeConfigView(ctx, current, deployment.timestamp) };
    }
    if (r.method === 'PUT' || r.method === 'POST') {
      const input = jsonBody(r.body);
      const replace = r.method === 'PUT';
      const next = await reconfigure(r, address.name, (config) => {
        const base = replace ? withoutInvokeConfig(config) : config;
        return applyInvokeConfig(base, input);
      });
      return { status: 200, body: invokeConfigView(ctx, next.config, next.timestamp) };
    }
    if (r.method === 'DELETE') {
      if (!hasInvokeConfig(current)) {
        throw notFound(`The function ${arnOf(ctx)} doesn't have an EventInvokeConfig`);
      }
      await reconfigure(r, address.name, withoutInvokeConfig);
      return { status: 204 };
    }
    return undefined;
  }
}

function hasInvokeConfig(c: FunctionDefinition): boolean {
  return (
    c.maximumRetryAttempts !== undefined ||
    c.maximumEventAge !== undefined ||
    c.destinations !== undefined
  );
}

function withoutInvokeConfig(c: FunctionDefinition): FunctionDefinition {
  const { maximumRetryAttempts: _r, maximumEventAge: _a, destinations: _d, ...rest } = c;
  return rest;
}

function applyInvokeConfig(
  base: FunctionDefinition,
  input: Record<string, unknown>,
): FunctionDefinition {
  const next: FunctionDefinition = { ...base };
  const retries = input.MaximumRetryAttempts;
  if (retries !== undefined && retries !== null) {
    if (
      !Number.isInteger(retries) ||
      (retries as number) < 0 ||
      (retries as number) > maxRetryAttempts
    ) {
      throw validationError(
        String(retries),
        'maximumRetryAttempts',
        `Member must have value between 0 and ${maxRetryAttempts}`,
      );
    }
    next.maximumRetryAttempts = retries as number;
  }
  const age = input.MaximumEventAgeInSeconds;
  if (age !== undefined && age !== null) {
    if (!Number.isInteger(age) || (age as number) < minEventAge || (age as number) > maxEventAge) {
      throw validationError(
        String(age),
        'maximumEventAgeInSeconds',
        `Member must have value between ${minEventAge} and ${maxEventAge}`,
      );
    }
    next.maximumEventAge = age as number;
  }
  const destinations = input.DestinationConfig;
  if (destinations !== undefined && destinations !== null) {
    const d = destinations as Record<string, { Destination?: unknown } | undefined>;
    const onSuccess = destination(d.OnSuccess, 'OnSuccess');
    const onFailure = destination(d.OnFailure, 'OnFailure');
    const merged = { ...next.destinations };
    if (onSuccess !== undefined) merged.onSuccess = onSuccess;
    if (onFailure !== undefined) merged.onFailure = onFailure;
    if (Object.keys(merged).length > 0) next.destinations = merged;
  }
  return next;
}

function destination(value: { Destination?: unknown } | undefined, field: string) {
  if (value === undefined || value === null) return undefined;
  const arn = value.Destination;
  if (arn === undefined || arn === null) return undefined;
  if (typeof arn !== 'string' || !arn.startsWith('arn:')) {
    throw invalidParameter(`DestinationConfig.${field}.Destination must be an ARN.`);
  }
  try {
    validateDestination(arn);
  } catch (error) {
    throw new LambdaApiError(
      400,
      'InvalidParameterValueException',
      `The destination ARN ${(error as Error).message}`,
    );
  }
  return arn;
}

/** `modifiedAt`: the deployment that holds the configuration (ms). */
function invokeConfigView(ctx: FunctionContext, c: FunctionDefinition, modifiedAt: number) {
  const d = c.destinations ?? {};
  return {
    // Lambda answers the unqualified function's config with the $LATEST ARN.
    FunctionArn: arnOf(ctx, '$LATEST'),
    LastModified: modifiedAt / 1000,
    ...(c.maximumRetryAttempts === undefined
      ? {}
      : { MaximumRetryAttempts: c.maximumRetryAttempts }),
    ...(c.maximumEventAge === undefined ? {} : { MaximumEventAgeInSeconds: c.maximumEventAge }),
    DestinationConfig: {
      OnSuccess: d.onSuccess ? { Destination: d.onSuccess } : {},
      OnFailure: d.onFailure ? { Destination: d.onFailure } : {},
    },
  };
}
