/**
 * Lambda's Create/Get/Update/Delete/ListFunctionUrlConfigs, backed by the function URL machinery
 * serverless.yml's `url:` uses (src/platform/gateway/function-url/, docs/function-urls.md): the
 * API sets the function's `url` configuration, and the URL served is the one `url: true` gives.
 */
import type { FunctionDefinition, FunctionUrlSettings } from '../../model/service-definition.js';
import { functionUrlsOf } from '../gateway/function-url/function-url-id.js';
import { parseFunctionAddress } from './function-name.js';
import {
  jsonBody,
  notFound,
  type OperationAnswer,
  type OperationRequest,
  stringField,
} from './function-operations.js';
import { createReconfigurer, type ReconfigureDeps } from './function-reconfigure.js';
import { arnOf, type FunctionContext } from './function-views.js';
import { invalidParameter, LambdaApiError, validationError } from './lambda-error.js';

export interface FunctionUrlConfigDeps extends ReconfigureDeps {
  /** The platform's address, for the URL answered (its host form, as Lambda's). */
  publicUrl: () => string;
}

const urlPath = /^\/2021-10-31\/functions\/([^/]+)\/url\/?$/;
const urlsPath = /^\/2021-10-31\/functions\/([^/]+)\/urls\/?$/;

export function createFunctionUrlConfigOperations(deps: FunctionUrlConfigDeps) {
  const { deployed, reconfigure } = createReconfigurer(deps);

  return async function operate(r: OperationRequest): Promise<OperationAnswer | undefined> {
    const list = urlsPath.exec(r.path);
    if (list && r.method === 'GET') return listConfigs(r, list[1]!);
    const one = urlPath.exec(r.path);
    if (!one) return undefined;
    const name = functionName(r, one[1]!);
    switch (r.method) {
      case 'POST':
        return create(r, name);
      case 'GET':
        return get(r, name);
      case 'PUT':
        return update(r, name);
      case 'DELETE':
        return remove(r, name);
      default:
        return undefined;
    }
  };

  async function create(r: OperationRequest, name: string): Promise<OperationAnswer> {
    const input = jsonBody(r.body);
    const { ctx, current } = await deployed(r, name);
    if (current.url) {
      throw new LambdaApiError(
        409,
        'ResourceConflictException',
        `Failed to create function url config for [functionArn = ${arnOf(ctx)}]. Error message:  FunctionUrlConfig exists for this Lambda function`,
      );
    }
    const settings = urlSettings(input, undefined);
    const next = await reconfigure(r, name, (config) => ({ ...config, url: settings }));
    return { status: 201, body: view(ctx, next.config, next.timestamp) };
  }

  async function get(r: OperationRequest, name: string): Promise<OperationAnswer> {
    const { ctx, current, deployment } = await deployed(r, name);
    if (!current.url) throw notFound('The resource you requested does not exist.');
    return { status: 200, body: view(ctx, current, deployment.timestamp) };
  }

  async function update(r: OperationRequest, name: string): Promise<OperationAnswer> {
    const input = jsonBody(r.body);
    const { current } = await deployed(r, name);
    if (!current.url) throw notFound('The resource you requested does not exist.');
    const settings = urlSettings(input, current.url);
    const next = await reconfigure(r, name, (config) => ({ ...config, url: settings }));
    const { ctx } = await deployed(r, name);
    return { status: 200, body: view(ctx, next.config, next.timestamp) };
  }

  async function remove(r: OperationRequest, name: string): Promise<OperationAnswer> {
    const { current } = await deployed(r, name);
    if (!current.url) throw notFound('The resource you requested does not exist.');
    await reconfigure(r, name, ({ url: _gone, ...config }) => config);
    return { status: 204 };
  }

  async function listConfigs(r: OperationRequest, rawName: string): Promise<OperationAnswer> {
    const name = parseFunctionAddress(rawName, null).name;
    const { ctx, current, deployment } = await deployed(r, name);
    const configs = current.url ? [view(ctx, current, deployment.timestamp)] : [];
    return { status: 200, body: { FunctionUrlConfigs: configs } };
  }

  function view(ctx: FunctionContext, config: FunctionDefinition, modifiedAt: number) {
    const url = config.url!;
    const time = new Date(modifiedAt).toISOString();
    const cors = apiCors(url.cors);
    return {
      FunctionUrl: functionUrlsOf(config.name, deps.publicUrl()).host,
      FunctionArn: arnOf(ctx),
      AuthType: url.authType,
      ...(cors ? { Cors: cors } : {}),
      CreationTime: time,
      LastModifiedTime: time,
      InvokeMode: url.invokeMode,
    };
  }
}

/** Nimbus serves one URL per function, for the version its stage alias serves. */
function functionName(r: OperationRequest, rawName: string): string {
  const address = parseFunctionAddress(rawName, r.query.get('Qualifier'));
  if (address.qualifier !== undefined && address.qualifier !== '$LATEST') {
    throw invalidParameter(
      'Nimbus serves one function URL per function: omit the Qualifier (or use $LATEST).',
    );
  }
  return address.name;
}

/** AuthType, InvokeMode and Cors from the request; absent ones keep `current`'s (Update). */
function urlSettings(
  input: Record<string, unknown>,
  current: FunctionUrlSettings | undefined,
): FunctionUrlSettings {
  const authType = stringField(input, 'AuthType', current === undefined) ?? current!.authType;
  if (authType !== 'NONE' && authType !== 'AWS_IAM') {
    throw validationError(
      authType,
      'authType',
      'Member must satisfy enum value set: [NONE, AWS_IAM]',
    );
  }
  const invokeMode = stringField(input, 'InvokeMode', false) ?? current?.invokeMode ?? 'BUFFERED';
  if (invokeMode !== 'BUFFERED' && invokeMode !== 'RESPONSE_STREAM') {
    throw validationError(
      invokeMode,
      'invokeMode',
      'Member must satisfy enum value set: [BUFFERED, RESPONSE_STREAM]',
    );
  }
  const cors = input.Cors === undefined ? current?.cors : ymlCors(input.Cors);
  return { authType, invokeMode, ...(cors === undefined ? {} : { cors }) };
}

const corsFields: [api: string, yml: string][] = [
  ['AllowOrigins', 'allowedOrigins'],
  ['AllowHeaders', 'allowedHeaders'],
  ['AllowMethods', 'allowedMethods'],
  ['ExposeHeaders', 'exposedResponseHeaders'],
];

/** Lambda's Cors in the httpApi-style shape `url.cors` holds (what serverless.yml writes). */
function ymlCors(value: unknown): Record<string, unknown> | undefined {
  if (value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw invalidParameter('Cors must be an object.');
  }
  const api = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [from, to] of corsFields) {
    const list = api[from];
    if (list === undefined) continue;
    if (!Array.isArray(list) || list.some((v) => typeof v !== 'string')) {
      throw invalidParameter(`Cors.${from} must be a list of strings.`);
    }
    out[to] = list;
  }
  if (api.AllowCredentials !== undefined) out.allowCredentials = api.AllowCredentials === true;
  if (api.MaxAge !== undefined) {
    if (
      !Number.isInteger(api.MaxAge) ||
      (api.MaxAge as number) < 0 ||
      (api.MaxAge as number) > 86400
    ) {
      throw validationError(
        String(api.MaxAge),
        'cors.maxAge',
        'Member must have value between 0 and 86400',
      );
    }
    out.maxAge = api.MaxAge;
  }
  return out;
}

/** `url.cors` (true, or the httpApi-style object) as Lambda's Cors. */
function apiCors(cors: unknown): Record<string, unknown> | undefined {
  if (cors === undefined || cors === false) return undefined;
  if (cors === true) return { AllowOrigins: ['*'] };
  const c = cors as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [api, yml] of corsFields) if (Array.isArray(c[yml])) out[api] = c[yml];
  if (typeof c.allowCredentials === 'boolean') out.AllowCredentials = c.allowCredentials;
  if (typeof c.maxAge === 'number') out.MaxAge = c.maxAge;
  return out;
}
