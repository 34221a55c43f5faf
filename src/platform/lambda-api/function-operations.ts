/**
 * Lambda's control operations on functions, versions and aliases (`/2015-03-31/functions/...`,
 * `/2016-08-19/account-settings/`), answered from the Store. The Invoke API's dispatcher
 * (lambda-api.ts) authenticates and hands everything but `/invocations` here.
 */
import type { FunctionDefinition } from '../../model/service-definition.js';
import type { Store, VersionRow } from '../../store/store.js';
import type { Deployer, DeployOutcome } from '../control/deployer.js';
import { parseFunctionAddress } from './function-name.js';
import {
  aliasConfiguration,
  arnOf,
  type FunctionContext,
  functionConfiguration,
} from './function-views.js';
import { invalidParameter, LambdaApiError, validationError } from './lambda-error.js';
import { layersField } from './layer-operations.js';

export interface FunctionOperationsDeps {
  store: Store;
  /** Tells the StageReconciler an alias of the stage moved (the resolver forgets its cache). */
  onAliasChange: (change: {
    service: string;
    stage: string;
    functionName: string;
  }) => Promise<void>;
  /** The platform's cap on concurrent instances: the account's ConcurrentExecutions. */
  maxInstances: number;
  /**
   * Configuration changes (UpdateFunctionConfiguration, Put/DeleteFunctionConcurrency) are
   * `deploy function -u` deployments, so versions and deployments stay one mechanism.
   */
  deployer?: Pick<Deployer, 'deployFunction'>;
  /** Tells the StageReconciler a deployment landed (as the control API's deploy does). */
  onDeployed?: (change: {
    service: string;
    stage: string;
    functionNames: string[];
  }) => Promise<void>;
}

export interface OperationRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: Buffer;
  region: string;
}

export type OperationAnswer = { status: number; body?: unknown };

const functionsPath = /^\/2015-03-31\/functions\/?$/;
const functionPath = /^\/2015-03-31\/functions\/([^/]+)(\/[a-z]+)?(?:\/([^/]+))?\/?$/;
// Lambda added these operations under later API dates.
const concurrencyPath = /^\/(?:2017-10-31|2019-09-30)\/functions\/([^/]+)\/concurrency\/?$/;
const accountSettingsPath = /^\/2016-08-19\/account-settings\/?$/;
const aliasNamePattern = /^(?!^[0-9]+$)[a-zA-Z0-9_-]{1,128}$/;
/** Lambda routes to one additional version only. */
const maxAdditionalVersions = 1;

export function createFunctionOperations(deps: FunctionOperationsDeps) {
  const { store } = deps;

  /** Undefined: no such operation (the dispatcher answers UnknownOperationException). */
  return async function operate(r: OperationRequest): Promise<OperationAnswer | undefined> {
    if (accountSettingsPath.test(r.path) && r.method === 'GET') return accountSettings();
    if (functionsPath.test(r.path) && r.method === 'GET') return listFunctions(r);
    const concurrency = concurrencyPath.exec(r.path);
    if (concurrency) return concurrencyOperation(r, concurrency[1]!);
    const m = functionPath.exec(r.path);
    if (!m) return undefined;
    const [, rawName, sub = '', rawAlias] = m;
    const key = `${r.method} ${sub}${rawAlias === undefined ? '' : '/{alias}'}`;
    switch (key) {
      case 'GET ':
        return getFunction(r, rawName!);
      case 'GET /configuration':
        return { status: 200, body: await configurationOf(r, rawName!) };
      case 'GET /versions':
        return listVersions(r, rawName!);
      case 'POST /versions':
        return publishVersion(r, rawName!);
      case 'PUT /configuration':
        return updateConfiguration(r, rawName!);
      case 'GET /aliases':
        return listAliases(r, rawName!);
      case 'POST /aliases':
        return createAlias(r, rawName!);
      case 'GET /aliases/{alias}':
        return getAlias(r, rawName!, rawAlias!);
      case 'PUT /aliases/{alias}':
        return updateAlias(r, rawName!, rawAlias!);
      case 'DELETE /aliases/{alias}':
        return deleteAlias(r, rawName!, rawAlias!);
      default:
        return undefined;
    }
  };

  async function accountSettings(): Promise<OperationAnswer> {
    let functionCount = 0;
    let totalCodeSize = 0;
    for (const stage of await store.listStages()) {
      for (const fn of await store.listFunctions(stage.id)) {
        functionCount++;
        for (const v of await store.listVersions(fn.id)) totalCodeSize += v.codeSize;
      }
    }
    return {
      status: 200,
      body: {
        AccountLimit: {
          TotalCodeSize: 80530636800,
          CodeSizeUnzipped: 262144000,
          CodeSizeZipped: 52428800,
          ConcurrentExecutions: deps.maxInstances,
          UnreservedConcurrentExecutions: deps.maxInstances,
        },
        AccountUsage: { TotalCodeSize: totalCodeSize, FunctionCount: functionCount },
      },
    };
  }

  async function listFunctions(r: OperationRequest): Promise<OperationAnswer> {
    const all = r.query.get('FunctionVersion');
    if (all !== null && all !== 'ALL') {
      throw validationError(all, 'functionVersion', 'Member must satisfy enum value set: [ALL]');
    }
    const contexts: FunctionContext[] = [];
    for (const stage of await store.listStages()) {
      for (const fn of await store.listFunctions(stage.id)) {
        contexts.push({ fn, region: stage.region });
      }
    }
    contexts.sort((a, b) => a.fn.name.localeCompare(b.fn.name));
    const entries: unknown[] = [];
    for (const ctx of contexts) {
      const versions = await store.listVersions(ctx.fn.id);
      const newest = versions.at(-1);
      if (!newest) continue;
      entries.push(functionConfiguration(ctx, newest, '$LATEST', { qualifiedArn: false }));
      if (all === 'ALL') {
        for (const v of versions) entries.push(versionConfiguration(ctx, v));
      }
    }
    const page = paginate(entries, r.query);
    return { status: 200, body: { Functions: page.items, ...page.next } };
  }

  async function getFunction(r: OperationRequest, rawName: string): Promise<OperationAnswer> {
    const { ctx, configuration } = await resolveConfiguration(r, rawName);
    const reserved = await reservedOf(ctx);
    const [deployment] = await store.listDeployments(ctx.fn.stageId);
    return {
      status: 200,
      body: {
        Configuration: configuration.view,
        Code: { RepositoryType: 'S3' },
        Tags: deployment?.definition.functions[ctx.fn.key]?.tags ?? {},
        ...(reserved === undefined
          ? {}
          : { Concurrency: { ReservedConcurrentExecutions: reserved } }),
      },
    };
  }

  async function configurationOf(r: OperationRequest, rawName: string) {
    return (await resolveConfiguration(r, rawName)).configuration.view;
  }

  /** The configuration a FunctionName + Qualifier names: $LATEST, a version, or an alias's. */
  async function resolveConfiguration(r: OperationRequest, rawName: string) {
    const address = parseFunctionAddress(rawName, r.query.get('Qualifier'));
    const ctx = await findFunction(r, address.name);
    const versions = await store.listVersions(ctx.fn.id);
    const q = address.qualifier;
    let row: VersionRow | undefined;
    let version = '$LATEST';
    if (q === undefined || q === '$LATEST') {
      row = versions.at(-1);
    } else if (/^\d+$/.test(q)) {
      row = versions.find((v) => v.version === Number(q));
      version = q;
    } else {
      const alias = (await store.listAliases(ctx.fn.id)).find((a) => a.name === q);
      row = alias && versions.find((v) => v.version === alias.version);
      version = String(alias?.version);
    }
    if (!row) throw notFound(`Function not found: ${arnOf(ctx, q)}`);
    const view = functionConfiguration(ctx, row, version, { qualifiedArn: q !== undefined });
    // Qualified by an alias, Lambda shows the alias's ARN.
    if (q !== undefined) view.FunctionArn = arnOf(ctx, q);
    return { ctx, configuration: { view, config: row.config } };
  }

  async function listVersions(r: OperationRequest, rawName: string): Promise<OperationAnswer> {
    const ctx = await findFunction(r, rawName);
    const versions = await store.listVersions(ctx.fn.id);
    const newest = versions.at(-1);
    const entries = [
      ...(newest ? [functionConfiguration(ctx, newest, '$LATEST', { qualifiedArn: true })] : []),
      ...versions.map((v) => versionConfiguration(ctx, v)),
    ];
    const page = paginate(entries, r.query);
    return { status: 200, body: { Versions: page.items, ...page.next } };
  }

  async function listAliases(r: OperationRequest, rawName: string): Promise<OperationAnswer> {
    const ctx = await findFunction(r, rawName);
    const filter = r.query.get('FunctionVersion');
    const aliases = (await store.listAliases(ctx.fn.id)).filter(
      (a) => filter === null || String(a.version) === filter,
    );
    const page = paginate(
      aliases.map((a) => aliasConfiguration(ctx, a)),
      r.query,
    );
    return { status: 200, body: { Aliases: page.items, ...page.next } };
  }

  async function getAlias(r: OperationRequest, rawName: string, rawAlias: string) {
    const ctx = await findFunction(r, rawName);
    const alias = await findAlias(ctx, aliasName(rawAlias));
    return { status: 200, body: aliasConfiguration(ctx, alias) };
  }

  async function createAlias(r: OperationRequest, rawName: string): Promise<OperationAnswer> {
    const ctx = await findFunction(r, rawName);
    const input = jsonBody(r.body);
    const name = aliasName(stringField(input, 'Name', true)!);
    const version = await versionField(ctx, stringField(input, 'FunctionVersion', true)!);
    const routing = await routingField(ctx, input, version);
    const description = descriptionField(input);
    const existing = (await store.listAliases(ctx.fn.id)).find((a) => a.name === name);
    if (existing) {
      throw new LambdaApiError(
        409,
        'ResourceConflictException',
        `Alias already exists: ${arnOf(ctx, name)}`,
      );
    }
    const row = {
      functionId: ctx.fn.id,
      name,
      version,
      ...(routing ? { routing } : {}),
      ...(description === undefined ? {} : { description }),
    };
    await store.transaction((tx) => tx.setAlias(row));
    await changed(ctx);
    return { status: 201, body: aliasConfiguration(ctx, row) };
  }

  async function updateAlias(r: OperationRequest, rawName: string, rawAlias: string) {
    const ctx = await findFunction(r, rawName);
    const current = await findAlias(ctx, aliasName(rawAlias));
    const input = jsonBody(r.body);
    checkRevision(ctx, current, input);
    const versionText = stringField(input, 'FunctionVersion', false);
    const version =
      versionText === undefined ? current.version : await versionField(ctx, versionText);
    // RoutingConfig absent keeps the routing; present (even {}) replaces it.
    const routing =
      input.RoutingConfig === undefined ? current.routing : await routingField(ctx, input, version);
    const description = descriptionField(input) ?? current.description;
    if (routing?.[String(version)] !== undefined) {
      throw invalidParameter(
        'The alias version and the additional version in RoutingConfig must differ.',
      );
    }
    const row = {
      functionId: ctx.fn.id,
      name: current.name,
      version,
      ...(routing && Object.keys(routing).length > 0 ? { routing } : {}),
      ...(description === undefined ? {} : { description }),
    };
    await store.transaction((tx) => tx.setAlias(row));
    await changed(ctx);
    return { status: 200, body: aliasConfiguration(ctx, row) };
  }

  async function deleteAlias(r: OperationRequest, rawName: string, rawAlias: string) {
    const ctx = await findFunction(r, rawName);
    const name = aliasName(rawAlias);
    const stage = (await store.listStages()).find((s) => s.id === ctx.fn.stageId);
    if (stage?.stage === name) {
      throw new LambdaApiError(
        409,
        'ResourceConflictException',
        `Alias ${name} is the stage alias of ${stage.service}/${stage.stage}: deployments ` +
          'own it (clear its RoutingConfig with UpdateAlias, or remove the stage)',
      );
    }
    // Lambda answers 204 whether or not the alias existed.
    const deleted = await store.transaction((tx) => tx.deleteAlias(ctx.fn.id, name));
    if (deleted) await changed(ctx);
    return { status: 204 };
  }

  /**
   * Every Nimbus deploy publishes, so $LATEST is always the newest version: PublishVersion
   * answers that version, as Lambda does when nothing changed since the last publish.
   */
  async function publishVersion(r: OperationRequest, rawName: string): Promise<OperationAnswer> {
    const ctx = await findFunction(r, rawName);
    const input = jsonBody(r.body);
    const newest = (await store.listVersions(ctx.fn.id)).at(-1);
    if (!newest) throw notFound(`Function not found: ${arnOf(ctx)}`);
    const view = versionConfiguration(ctx, newest);
    const sha = stringField(input, 'CodeSha256', false);
    if (sha !== undefined && sha !== view.CodeSha256) {
      throw invalidParameter(
        `CodeSHA256 (${sha}) is different from current CodeSHA256 in $LATEST (${view.CodeSha256}). Please try again with the CodeSHA256 in $LATEST.`,
      );
    }
    return { status: 201, body: view };
  }

  /** Timeout, MemorySize, Description and Environment; a new version through the Deployer. */
  async function updateConfiguration(r: OperationRequest, rawName: string) {
    const input = jsonBody(r.body);
    const supported = new Set([
      'FunctionName',
      'Timeout',
      'MemorySize',
      'Description',
      'Environment',
      'RevisionId',
      'Layers',
    ]);
    const other = Object.keys(input).filter((k) => !supported.has(k));
    if (other.length > 0) {
      throw invalidParameter(
        `Nimbus changes ${other.join(', ')} through serverless.yml and nimbus deploy, not UpdateFunctionConfiguration.`,
      );
    }
    const layers = await layersField(input, store);
    const next = await reconfigure(r, rawName, (config) => {
      const timeout = numberField(input, 'Timeout');
      const memory = numberField(input, 'MemorySize');
      const description = descriptionField(input);
      const environment = environmentField(input);
      return {
        ...config,
        ...(timeout === undefined ? {} : { timeout }),
        ...(memory === undefined ? {} : { memorySize: memory }),
        ...(description === undefined ? {} : { description }),
        ...(environment === undefined ? {} : { environment }),
        // `Layers: []` removes them all, as on Lambda.
        ...(layers === undefined ? {} : { layers }),
      };
    });
    return { status: 200, body: next.view };
  }

  async function concurrencyOperation(r: OperationRequest, rawName: string) {
    if (r.method === 'GET') {
      const reserved = await reservedOf(await findFunction(r, rawName));
      return {
        status: 200,
        body: reserved === undefined ? {} : { ReservedConcurrentExecutions: reserved },
      };
    }
    if (r.method === 'PUT') {
      const reserved = numberField(jsonBody(r.body), 'ReservedConcurrentExecutions');
      if (reserved === undefined) {
        throw validationError('null', 'reservedConcurrentExecutions', 'Member must not be null');
      }
      await reconfigure(r, rawName, (config) => ({ ...config, reservedConcurrency: reserved }));
      return { status: 200, body: { ReservedConcurrentExecutions: reserved } };
    }
    if (r.method === 'DELETE') {
      await reconfigure(r, rawName, ({ reservedConcurrency: _, ...config }) => config);
      return { status: 204 };
    }
    return undefined;
  }

  /**
   * Concurrency is the function's, not a version's (as in Lambda; Nimbus leaves it out of the
   * version hash): the current deployment holds it.
   */
  async function reservedOf(ctx: FunctionContext): Promise<number | undefined> {
    const [current] = await store.listDeployments(ctx.fn.stageId);
    return current?.definition.functions[ctx.fn.key]?.reservedConcurrency;
  }

  /** The version the stage alias serves: what a deploy function starts from. */
  async function stageVersion(ctx: FunctionContext): Promise<VersionRow> {
    const stage = (await store.listStages()).find((s) => s.id === ctx.fn.stageId);
    const alias = (await store.listAliases(ctx.fn.id)).find((a) => a.name === stage?.stage);
    const versions = await store.listVersions(ctx.fn.id);
    const row = versions.find((v) => v.version === alias?.version) ?? versions.at(-1);
    if (!row) throw notFound(`Function not found: ${arnOf(ctx)}`);
    return row;
  }

  async function reconfigure(
    r: OperationRequest,
    rawName: string,
    change: (config: FunctionDefinition) => FunctionDefinition,
  ) {
    const { deployer, onDeployed } = deps;
    if (!deployer || !onDeployed) return unknownOperation(r);
    const ctx = await findFunction(r, rawName);
    const stage = (await store.listStages()).find((s) => s.id === ctx.fn.stageId)!;
    // The deployment's definition, not the version's: it carries concurrency too.
    const [deployment] = await store.listDeployments(ctx.fn.stageId);
    const current = deployment?.definition.functions[ctx.fn.key];
    if (!current) throw notFound(`Function not found: ${arnOf(ctx)}`);
    const outcome: DeployOutcome = await deployer.deployFunction({
      service: stage.service,
      stage: stage.stage,
      key: ctx.fn.key,
      config: change(current),
      force: false,
    });
    if (!outcome.skipped) {
      await onDeployed({
        service: stage.service,
        stage: stage.stage,
        functionNames: [ctx.fn.name],
      });
    }
    const row = await stageVersion(ctx);
    return { view: versionConfiguration(ctx, row) };
  }

  async function findFunction(r: OperationRequest, name: string): Promise<FunctionContext> {
    const address = parseFunctionAddress(name, null);
    const region = address.region ?? r.region;
    const fn = await store.findFunctionByName(address.name);
    const stage = fn && (await store.listStages()).find((s) => s.id === fn.stageId);
    if (!fn || !stage) {
      throw notFound(
        `Function not found: ${arnOf({ fn: { id: 0, stageId: 0, key: '', name: address.name }, region })}`,
      );
    }
    return { fn, region: stage.region };
  }

  async function findAlias(ctx: FunctionContext, name: string) {
    const alias = (await store.listAliases(ctx.fn.id)).find((a) => a.name === name);
    if (!alias) throw notFound(`Cannot find alias arn: ${arnOf(ctx, name)}`);
    return alias;
  }

  async function versionField(ctx: FunctionContext, text: string): Promise<number> {
    if (text === '$LATEST') {
      throw invalidParameter(
        'Nimbus aliases point at published versions (every deploy publishes one); ' +
          'name a version number instead of $LATEST.',
      );
    }
    if (!/^[0-9]{1,10}$/.test(text)) {
      throw validationError(
        text,
        'functionVersion',
        'Member must satisfy regular expression pattern: (\\$LATEST|[0-9]+)',
      );
    }
    const version = Number(text);
    if (!(await store.getVersion(ctx.fn.id, version))) {
      throw notFound(`Function not found: ${arnOf(ctx, text)}`);
    }
    return version;
  }

  async function routingField(
    ctx: FunctionContext,
    input: Record<string, unknown>,
    primary: number,
  ): Promise<Record<string, number> | undefined> {
    const config = input.RoutingConfig;
    if (config === undefined || config === null) return undefined;
    if (typeof config !== 'object' || Array.isArray(config)) {
      throw invalidParameter('RoutingConfig must be an object.');
    }
    const weights = (config as Record<string, unknown>).AdditionalVersionWeights ?? {};
    if (typeof weights !== 'object' || weights === null || Array.isArray(weights)) {
      throw invalidParameter('AdditionalVersionWeights must be an object of version to weight.');
    }
    const entries = Object.entries(weights);
    if (entries.length > maxAdditionalVersions) {
      throw invalidParameter(
        `Number of items in AdditionalVersionWeights cannot be greater than ${maxAdditionalVersions}`,
      );
    }
    const routing: Record<string, number> = {};
    for (const [version, weight] of entries) {
      const number = await versionField(ctx, version);
      if (number === primary) {
        throw invalidParameter(
          'The alias version and the additional version in RoutingConfig must differ.',
        );
      }
      if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0 || weight > 1) {
        throw validationError(
          String(weight),
          'routingConfig.additionalVersionWeights',
          'Member must have value between 0.0 and 1.0',
        );
      }
      routing[String(number)] = weight;
    }
    return routing;
  }

  function checkRevision(
    ctx: FunctionContext,
    alias: Parameters<typeof aliasConfiguration>[1],
    input: Record<string, unknown>,
  ) {
    const expected = stringField(input, 'RevisionId', false);
    if (expected !== undefined && expected !== aliasConfiguration(ctx, alias).RevisionId) {
      throw new LambdaApiError(
        412,
        'PreconditionFailedException',
        'The Revision Id provided does not match the latest Revision Id. Call the GetAlias ' +
          'API to retrieve the latest Revision Id',
      );
    }
  }

  async function changed(ctx: FunctionContext): Promise<void> {
    const stage = (await store.listStages()).find((s) => s.id === ctx.fn.stageId);
    if (stage) {
      await deps.onAliasChange({
        service: stage.service,
        stage: stage.stage,
        functionName: ctx.fn.name,
      });
    }
  }
}

function versionConfiguration(ctx: FunctionContext, row: VersionRow) {
  return functionConfiguration(ctx, row, String(row.version), { qualifiedArn: true });
}

/** Lambda's Marker/MaxItems paging; the marker is the index of the next item. */
function paginate<T>(items: T[], query: URLSearchParams) {
  const marker = query.get('Marker');
  const maxText = query.get('MaxItems');
  const start = marker === null ? 0 : Number(marker);
  if (!Number.isInteger(start) || start < 0 || start > items.length) {
    throw invalidParameter(`Invalid Marker: ${marker}`);
  }
  const max = maxText === null ? 50 : Number(maxText);
  if (!Number.isInteger(max) || max < 1 || max > 10000) {
    throw validationError(
      String(maxText),
      'maxItems',
      'Member must have value between 1 and 10000',
    );
  }
  const end = start + max;
  return {
    items: items.slice(start, end),
    next: end < items.length ? { NextMarker: String(end) } : {},
  };
}

function aliasName(raw: string): string {
  let name: string;
  try {
    name = decodeURIComponent(raw);
  } catch {
    name = raw;
  }
  if (!aliasNamePattern.test(name)) {
    throw validationError(
      name,
      'name',
      'Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)',
    );
  }
  return name;
}

export function jsonBody(body: Buffer): Record<string, unknown> {
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

export function stringField(
  input: Record<string, unknown>,
  name: string,
  required: boolean,
): string | undefined {
  const value = input[name];
  if (value === undefined || value === null) {
    if (required) throw validationError('null', name, 'Member must not be null');
    return undefined;
  }
  if (typeof value !== 'string') throw invalidParameter(`${name} must be a string.`);
  return value;
}

export function descriptionField(input: Record<string, unknown>): string | undefined {
  const description = stringField(input, 'Description', false);
  if (description !== undefined && description.length > 256) {
    throw validationError(
      description.slice(0, 20),
      'description',
      'Member must have length less than or equal to 256',
    );
  }
  return description;
}

export function numberField(input: Record<string, unknown>, name: string): number | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw invalidParameter(`${name} must be a whole number.`);
  }
  return value;
}

export function environmentField(
  input: Record<string, unknown>,
): Record<string, string> | undefined {
  const env = input.Environment;
  if (env === undefined || env === null) return undefined;
  const variables = (env as { Variables?: unknown }).Variables ?? {};
  if (typeof variables !== 'object' || variables === null || Array.isArray(variables)) {
    throw invalidParameter('Environment.Variables must be an object of strings.');
  }
  for (const value of Object.values(variables)) {
    if (typeof value !== 'string')
      throw invalidParameter('Environment.Variables must be an object of strings.');
  }
  return variables as Record<string, string>;
}

function unknownOperation(r: OperationRequest): never {
  throw new LambdaApiError(
    404,
    'UnknownOperationException',
    `Unknown operation ${r.method} ${r.path}`,
  );
}

export function notFound(message: string): LambdaApiError {
  return new LambdaApiError(404, 'ResourceNotFoundException', message);
}
