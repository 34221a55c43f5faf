/**
 * Lambda's CreateFunction, UpdateFunctionCode and DeleteFunction. Functions created through the
 * API live in a service stage of their own (`lambda-api` / `default`, docs/lambda-api.md), so
 * they are deployments like any other: versions, `nimbus info`, the resolver and the reconciler
 * see them without a second mechanism. Every change goes through the Deployer.
 */
import { createHash } from 'node:crypto';
import type { BlobStore } from '../../blob/blob-store.js';
import { NimbusError } from '../../errors/nimbus-error.js';
import type { FunctionDefinition, ServiceDefinition } from '../../model/service-definition.js';
import { ZipRejectedError } from '../../packaging/zip-rejected-error.js';
import { checkRuntime } from '../../service/runtimes.js';
import type { Store, VersionRow } from '../../store/store.js';
import type { Deployer, DeployOutcome } from '../control/deployer.js';
import { parseFunctionAddress } from './function-name.js';
import {
  descriptionField,
  environmentField,
  jsonBody,
  notFound,
  numberField,
  type OperationAnswer,
  type OperationRequest,
  stringField,
} from './function-operations.js';
import {
  arnOf,
  type FunctionContext,
  functionConfiguration,
  functionRevision,
} from './function-views.js';
import { invalidParameter, LambdaApiError, validationError } from './lambda-error.js';
import { layersField } from './layer-operations.js';

/** The service stage that holds the functions CreateFunction makes. */
export const apiService = 'lambda-api';
export const apiStage = 'default';

export interface FunctionLifecycleDeps {
  store: Store;
  blobs: BlobStore;
  deployer: Pick<Deployer, 'amend' | 'deployFunction'>;
  /** Tells the StageReconciler a deployment landed. */
  onDeployed: (change: {
    service: string;
    stage: string;
    functionNames: string[];
  }) => Promise<void>;
  /** The bytes of an object of the Nimbus S3 service (Code.S3Bucket / S3Key); undefined: none. */
  readS3Object?: (bucket: string, key: string) => Promise<Buffer | undefined>;
  /** Lambda's cap on a zipped deployment package. */
  maxZipBytes?: number;
}

const functionsPath = /^\/2015-03-31\/functions\/?$/;
const functionPath = /^\/2015-03-31\/functions\/([^/]+)\/?$/;
const codePath = /^\/2015-03-31\/functions\/([^/]+)\/code\/?$/;
const functionNamePattern = /^[a-zA-Z0-9_-]{1,64}$/;
const defaultMaxZipBytes = 50 * 1024 * 1024;

export function createFunctionLifecycleOperations(deps: FunctionLifecycleDeps) {
  const { store } = deps;

  return async function operate(r: OperationRequest): Promise<OperationAnswer | undefined> {
    if (functionsPath.test(r.path) && r.method === 'POST') return createFunction(r);
    const code = codePath.exec(r.path);
    if (code && r.method === 'PUT') return updateCode(r, code[1]!);
    const fn = functionPath.exec(r.path);
    if (fn && r.method === 'DELETE') return deleteFunction(r, fn[1]!);
    return undefined;
  };

  async function createFunction(r: OperationRequest): Promise<OperationAnswer> {
    const input = jsonBody(r.body);
    const name = functionName(input);
    const runtime = stringField(input, 'Runtime', true)!;
    const check = checkRuntime(runtime);
    if (!check.ok)
      throw invalidParameter(`Value ${runtime} at 'runtime' is not supported: ${check.message}`);
    const handler = stringField(input, 'Handler', true)!;
    // Accepted as Lambda requires it; Nimbus functions run with the platform's session credentials.
    stringField(input, 'Role', true);
    const packageType = stringField(input, 'PackageType', false);
    if (packageType !== undefined && packageType !== 'Zip') {
      throw invalidParameter('Nimbus runs Zip packages only (PackageType Image is not supported).');
    }
    const layers = await layersField(input, store);
    const zip = await codeOf(input.Code, 'Code');
    const tags = tagsField(input);
    const timeout = numberField(input, 'Timeout');
    const memory = numberField(input, 'MemorySize');
    const description = descriptionField(input);
    const environment = environmentField(input) ?? {};
    const existing = await store.findFunctionByName(name);
    if (existing) {
      throw new LambdaApiError(409, 'ResourceConflictException', `Function already exist: ${name}`);
    }
    const sha = await storeZip(zip);
    const config: FunctionDefinition = {
      key: name,
      name,
      handler,
      runtime,
      runtimeFamily: check.family,
      memorySize: memory ?? 128,
      timeout: timeout ?? 3,
      environment,
      events: [],
      handlerFile: '',
      ...(description ? { description } : {}),
      ...(tags ? { tags } : {}),
      ...(layers && layers.length > 0 ? { layers } : {}),
    };
    const outcome = await deploy(
      () =>
        deps.deployer.amend({
          service: apiService,
          stage: apiStage,
          artifact: sha,
          amend: (current) => {
            if (current?.definition.functions[name]) {
              throw new LambdaApiError(
                409,
                'ResourceConflictException',
                `Function already exist: ${name}`,
              );
            }
            const base = current?.definition ?? emptyDefinition(r.region);
            return {
              definition: { ...base, functions: { ...base.functions, [name]: config } },
              artifacts: { ...current?.artifacts, [name]: sha },
            };
          },
        }),
      [name],
      apiService,
      apiStage,
    );
    const ctx = await contextOf(r, name);
    const row = await versionOf(ctx, outcome, name);
    return {
      status: 201,
      body: functionConfiguration(ctx, row, '$LATEST', { qualifiedArn: false }),
    };
  }

  async function updateCode(r: OperationRequest, rawName: string): Promise<OperationAnswer> {
    const address = parseFunctionAddress(rawName, null);
    const input = jsonBody(r.body);
    const ctx = await contextOf(r, address.name);
    const stage = (await store.listStages()).find((s) => s.id === ctx.fn.stageId)!;
    const newest = (await store.listVersions(ctx.fn.id)).at(-1);
    if (!newest) throw notFound(`Function not found: ${arnOf(ctx)}`);
    const revision = stringField(input, 'RevisionId', false);
    if (revision !== undefined && revision !== functionRevision(newest)) {
      throw new LambdaApiError(
        412,
        'PreconditionFailedException',
        'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id',
      );
    }
    if (input.ImageUri !== undefined) {
      throw invalidParameter('Nimbus runs Zip packages only (ImageUri is not supported).');
    }
    const zip = await codeOf(input, 'request');
    const sha = await storeZip(zip);
    if (input.DryRun === true) {
      return {
        status: 200,
        body: {
          ...functionConfiguration(ctx, newest, '$LATEST', { qualifiedArn: false }),
          CodeSha256: Buffer.from(sha, 'hex').toString('base64'),
          CodeSize: zip.length,
        },
      };
    }
    const outcome = await deploy(
      () =>
        deps.deployer.deployFunction({
          service: stage.service,
          stage: stage.stage,
          key: ctx.fn.key,
          artifact: sha,
          force: false,
        }),
      [ctx.fn.name],
      stage.service,
      stage.stage,
    );
    const row = await versionOf(ctx, outcome, ctx.fn.key);
    // Publish: true answers the version; otherwise $LATEST (which Nimbus keeps equal to it).
    const version = input.Publish === true ? String(row.version) : '$LATEST';
    return {
      status: 200,
      body: functionConfiguration(ctx, row, version, { qualifiedArn: version !== '$LATEST' }),
    };
  }

  async function deleteFunction(r: OperationRequest, rawName: string): Promise<OperationAnswer> {
    const address = parseFunctionAddress(rawName, r.query.get('Qualifier'));
    const ctx = await contextOf(r, address.name);
    const stage = (await store.listStages()).find((s) => s.id === ctx.fn.stageId)!;
    if (address.qualifier !== undefined && address.qualifier !== '$LATEST') {
      await deleteVersion(ctx, address.qualifier);
      await deps.onDeployed({
        service: stage.service,
        stage: stage.stage,
        functionNames: [ctx.fn.name],
      });
      return { status: 204 };
    }
    if (stage.service !== apiService || stage.stage !== apiStage) {
      throw new LambdaApiError(
        409,
        'ResourceConflictException',
        `Function ${ctx.fn.name} belongs to service ${stage.service} stage ${stage.stage}: ` +
          'remove it from its serverless.yml and deploy, or nimbus remove the stage.',
      );
    }
    const name = ctx.fn.name;
    await deploy(
      () =>
        deps.deployer.amend({
          service: apiService,
          stage: apiStage,
          amend: (current) => {
            const key = Object.values(current?.definition.functions ?? {}).find(
              (f) => f.name === name,
            )?.key;
            if (!current || key === undefined) throw notFound(`Function not found: ${arnOf(ctx)}`);
            const { [key]: _gone, ...functions } = current.definition.functions;
            const { [key]: _code, ...artifacts } = current.artifacts;
            return { definition: { ...current.definition, functions }, artifacts };
          },
        }),
      [name],
      apiService,
      apiStage,
    );
    return { status: 204 };
  }

  /**
   * DeleteFunction with a version Qualifier, as Lambda: refused while an alias points at the
   * version (or routes to it). The newest version is $LATEST's code in Nimbus and numbers the
   * next one, so it stays (delete the function instead).
   */
  async function deleteVersion(ctx: FunctionContext, qualifier: string): Promise<void> {
    if (!/^[0-9]{1,10}$/.test(qualifier)) {
      throw invalidParameter(
        'Deletion of aliases is not supported by DeleteFunction: use DeleteAlias.',
      );
    }
    const version = Number(qualifier);
    await store.transaction(async (tx) => {
      const versions = await tx.listVersions(ctx.fn.id);
      if (!versions.some((v) => v.version === version)) {
        throw notFound(`Function not found: ${arnOf(ctx, qualifier)}`);
      }
      const users = (await tx.listAliases(ctx.fn.id))
        .filter((a) => a.version === version || a.routing?.[qualifier] !== undefined)
        .map((a) => a.name);
      if (users.length > 0) {
        throw new LambdaApiError(
          409,
          'ResourceConflictException',
          `Unable to delete version because the following aliases reference it: [${users.join(', ')}]`,
        );
      }
      if (versions.at(-1)?.version === version) {
        throw new LambdaApiError(
          409,
          'ResourceConflictException',
          `Version ${version} is the newest version ($LATEST's code in Nimbus) and cannot be deleted on its own; delete the function instead.`,
        );
      }
      await tx.deleteVersion(ctx.fn.id, version);
    });
  }

  async function deploy(
    run: () => Promise<DeployOutcome>,
    names: string[],
    service: string,
    stage: string,
  ): Promise<DeployOutcome> {
    let outcome: DeployOutcome;
    try {
      outcome = await run();
    } catch (error) {
      if (error instanceof ZipRejectedError) {
        throw invalidParameter(
          `Could not unzip uploaded file. Please check your file, then try to upload again. (${error.message})`,
        );
      }
      if (error instanceof LambdaApiError || !(error instanceof NimbusError)) throw error;
      // The Deployer's own refusals (a definition rule, a taken name) in Lambda's shape.
      if (error.status === 409) {
        throw new LambdaApiError(409, 'ResourceConflictException', error.message);
      }
      if (error.status !== undefined && error.status < 500) throw invalidParameter(error.message);
      throw error;
    }
    if (!outcome.skipped) await deps.onDeployed({ service, stage, functionNames: names });
    return outcome;
  }

  /** The version the deployment serves for the function (its key in the definition). */
  async function versionOf(
    ctx: FunctionContext,
    outcome: DeployOutcome,
    key: string,
  ): Promise<VersionRow> {
    const version = outcome.deployment.functions[key];
    const row = version === undefined ? undefined : await store.getVersion(ctx.fn.id, version);
    if (!row) throw notFound(`Function not found: ${arnOf(ctx)}`);
    return row;
  }

  async function contextOf(r: OperationRequest, name: string): Promise<FunctionContext> {
    const fn = await store.findFunctionByName(name);
    const stage = fn && (await store.listStages()).find((s) => s.id === fn.stageId);
    if (!fn || !stage) {
      throw notFound(
        `Function not found: ${arnOf({ fn: { id: 0, stageId: 0, key: '', name }, region: r.region })}`,
      );
    }
    return { fn, region: stage.region };
  }

  /** ZipFile (base64 in JSON) or S3Bucket + S3Key of the Nimbus S3 service. */
  async function codeOf(value: unknown, where: string): Promise<Buffer> {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw validationError('null', 'code', 'Member must not be null');
    }
    const code = value as Record<string, unknown>;
    const max = deps.maxZipBytes ?? defaultMaxZipBytes;
    let zip: Buffer;
    if (typeof code.ZipFile === 'string') {
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(code.ZipFile)) {
        throw invalidParameter(`${where}.ZipFile must be base64.`);
      }
      zip = Buffer.from(code.ZipFile, 'base64');
    } else if (typeof code.S3Bucket === 'string' && typeof code.S3Key === 'string') {
      const bytes = await deps.readS3Object?.(code.S3Bucket, code.S3Key);
      if (!bytes) {
        throw invalidParameter(
          `Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: The specified key does not exist. (s3://${code.S3Bucket}/${code.S3Key})`,
        );
      }
      zip = bytes;
    } else {
      throw invalidParameter(
        'Please provide a source for function code: ZipFile, or S3Bucket and S3Key.',
      );
    }
    if (zip.length > max) {
      throw new LambdaApiError(
        413,
        'RequestEntityTooLargeException',
        `Zipped size must be smaller than ${max} bytes`,
      );
    }
    // Local file header or (an empty archive) end of central directory.
    const magic = zip.subarray(0, 4).toString('hex');
    if (magic !== '504b0304' && magic !== '504b0506') {
      throw invalidParameter(
        'Could not unzip uploaded file. Please check your file, then try to upload again.',
      );
    }
    return zip;
  }

  async function storeZip(zip: Buffer): Promise<string> {
    const sha = createHash('sha256').update(zip).digest('hex');
    if (!(await deps.blobs.has(sha))) await deps.blobs.put(sha, zip);
    return sha;
  }
}

function functionName(input: Record<string, unknown>): string {
  const raw = stringField(input, 'FunctionName', true)!;
  // A full or partial ARN names the function too.
  const name = parseFunctionAddress(encodeURIComponent(raw), null).name;
  if (!functionNamePattern.test(name)) {
    throw validationError(
      raw,
      'functionName',
      'Member must satisfy regular expression pattern: [a-zA-Z0-9-_]+',
    );
  }
  return name;
}

function tagsField(input: Record<string, unknown>): Record<string, string> | undefined {
  return tagMap(input.Tags);
}

/** Lambda's Tags: a map of strings, keys up to 128 characters, values up to 256. */
export function tagMap(value: unknown): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw invalidParameter('Tags must be an object of strings.');
  }
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string' || k.length < 1 || k.length > 128 || v.length > 256) {
      throw invalidParameter(
        'Tags must be an object of strings (keys 1 to 128 characters, values up to 256).',
      );
    }
  }
  return value as Record<string, string>;
}

function emptyDefinition(region: string): ServiceDefinition {
  return {
    service: apiService,
    stage: apiStage,
    region,
    provider: { name: 'aws', runtime: 'nodejs20.x', memorySize: 128, timeout: 3, environment: {} },
    functions: {},
    package: { patterns: [], individually: true, excludeDevDependencies: false },
    plugins: [],
    custom: {},
  };
}
