/**
 * Lambda's layer operations (`/2018-10-31/layers/...`, docs/layers.md): PublishLayerVersion,
 * GetLayerVersion, GetLayerVersionByArn, ListLayers, ListLayerVersions, DeleteLayerVersion. A
 * layer's zip is a content-addressed blob, as function code is; its versions are rows of the
 * Store, shared with the layers serverless.yml deployments publish.
 */
import { createHash } from 'node:crypto';
import type { BlobStore } from '../../blob/blob-store.js';
import { NIMBUS_ACCOUNT_ID } from '../../model/account.js';
import {
  layerArn,
  layerNamePattern,
  layerVersionArn,
  maxLayersPerFunction,
  parseLayerVersionArn,
} from '../../model/layer-arn.js';
import { ZipRejectedError } from '../../packaging/zip-rejected-error.js';
import { assertExtractable, lambdaZipLimits } from '../../packaging/zip-safety.js';
import { checkRuntime } from '../../service/runtimes.js';
import type { LayerVersionRow, LayerVersionSettings, Store } from '../../store/store.js';
import { layerSettingsSha } from '../layers/stage-layers.js';
import {
  descriptionField,
  jsonBody,
  notFound,
  type OperationAnswer,
  type OperationRequest,
  stringField,
} from './function-operations.js';
import { base64Sha256, lambdaTimestamp } from './function-views.js';
import { invalidParameter, LambdaApiError, validationError } from './lambda-error.js';

export interface LayerOperationsDeps {
  store: Store;
  blobs: BlobStore;
  /** The bytes of an object of the Nimbus S3 service (Content.S3Bucket / S3Key). */
  readS3Object?: (bucket: string, key: string) => Promise<Buffer | undefined>;
  /** Injected time, ISO-8601. */
  now: () => string;
}

const layersPath = /^\/2018-10-31\/layers\/?$/;
const versionsPath = /^\/2018-10-31\/layers\/([^/]+)\/versions\/?$/;
const versionPath = /^\/2018-10-31\/layers\/([^/]+)\/versions\/([^/]+)\/?$/;
const architectures = new Set(['x86_64', 'arm64']);
const layerVersionArnConstraint =
  'Member must satisfy regular expression pattern: arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+';

export function createLayerOperations(deps: LayerOperationsDeps) {
  const { store } = deps;

  return async function operate(r: OperationRequest): Promise<OperationAnswer | undefined> {
    if (layersPath.test(r.path) && r.method === 'GET') {
      return r.query.get('find') === 'LayerVersion' ? getByArn(r) : listLayers(r);
    }
    const versions = versionsPath.exec(r.path);
    if (versions) {
      const name = layerNameOf(versions[1]!);
      if (r.method === 'POST') return publish(r, name);
      if (r.method === 'GET') return listVersions(r, name);
      return undefined;
    }
    const one = versionPath.exec(r.path);
    if (one) {
      const name = layerNameOf(one[1]!);
      const version = versionNumber(one[2]!);
      if (r.method === 'GET') return getVersion(r, name, version);
      if (r.method === 'DELETE') {
        // Lambda answers success whether or not the version existed.
        await store.transaction((tx) => tx.deleteLayerVersion(name, version));
        return { status: 204 };
      }
    }
    return undefined;
  };

  async function publish(r: OperationRequest, name: string): Promise<OperationAnswer> {
    const input = jsonBody(r.body);
    const zip = await contentOf(input.Content);
    const settings: LayerVersionSettings = {};
    const description = descriptionField(input);
    if (description !== undefined) settings.description = description;
    const runtimes = listField(input, 'CompatibleRuntimes', 15);
    for (const runtime of runtimes ?? []) {
      if (!checkRuntime(runtime).ok) {
        throw validationError(
          runtime,
          'compatibleRuntimes',
          'Member must satisfy enum value set of the runtimes Nimbus runs',
        );
      }
    }
    if (runtimes) settings.compatibleRuntimes = runtimes;
    const archs = listField(input, 'CompatibleArchitectures', 2);
    for (const arch of archs ?? []) {
      if (!architectures.has(arch)) {
        throw validationError(
          arch,
          'compatibleArchitectures',
          'Member must satisfy enum value set: [x86_64, arm64]',
        );
      }
    }
    if (archs) settings.compatibleArchitectures = archs;
    const license = stringField(input, 'LicenseInfo', false);
    if (license !== undefined) {
      if (license.length > 512) {
        throw validationError(
          license.slice(0, 20),
          'licenseInfo',
          'Member must have length less than or equal to 512',
        );
      }
      settings.licenseInfo = license;
    }
    let unzippedSize: number;
    try {
      unzippedSize = (await assertExtractable(zip, lambdaZipLimits)).unzippedBytes;
    } catch (error) {
      if (!(error instanceof ZipRejectedError)) throw error;
      throw invalidParameter(
        `Could not unzip uploaded file. Please check your file, then try to upload again. (${error.message})`,
      );
    }
    const sha = createHash('sha256').update(zip).digest('hex');
    if (!(await deps.blobs.has(sha))) await deps.blobs.put(sha, zip);
    const row = await store.transaction((tx) =>
      tx.insertLayerVersion({
        name,
        codeSha256: sha,
        codeSize: zip.length,
        unzippedSize,
        settings,
        configSha256: layerSettingsSha(settings),
        createdAt: deps.now(),
      }),
    );
    return { status: 201, body: layerVersionView(r.region, row) };
  }

  async function getVersion(
    r: OperationRequest,
    name: string,
    version: number,
  ): Promise<OperationAnswer> {
    const row = await store.getLayerVersion(name, version);
    if (!row) throw notFound('The resource you requested does not exist.');
    return { status: 200, body: layerVersionView(r.region, row) };
  }

  async function getByArn(r: OperationRequest): Promise<OperationAnswer> {
    const arn = r.query.get('Arn') ?? '';
    const address = parseLayerVersionArn(arn);
    if (!address) throw validationError(arn, 'arn', layerVersionArnConstraint);
    const row =
      address.account === NIMBUS_ACCOUNT_ID
        ? await store.getLayerVersion(address.name, address.version)
        : undefined;
    if (!row) throw notFound('The resource you requested does not exist.');
    return { status: 200, body: layerVersionView(address.region, row) };
  }

  async function listVersions(r: OperationRequest, name: string): Promise<OperationAnswer> {
    const rows = (await store.listLayerVersions(name)).filter((v) => matches(v, r.query)).reverse();
    const { page, next } = paginate(rows, r.query);
    return {
      status: 200,
      body: {
        LayerVersions: page.map((v) => listItem(r.region, v)),
        ...(next === undefined ? {} : { NextMarker: next }),
      },
    };
  }

  async function listLayers(r: OperationRequest): Promise<OperationAnswer> {
    const newest = new Map<string, LayerVersionRow>();
    for (const row of await store.listLayerVersions()) {
      if (matches(row, r.query)) newest.set(row.name, row);
    }
    const { page, next } = paginate([...newest.values()], r.query);
    return {
      status: 200,
      body: {
        Layers: page.map((row) => ({
          LayerName: row.name,
          LayerArn: layerArn(r.region, row.name),
          LatestMatchingVersion: listItem(r.region, row),
        })),
        ...(next === undefined ? {} : { NextMarker: next }),
      },
    };
  }

  /** Content.ZipFile (base64) or Content.S3Bucket + S3Key of the Nimbus S3 service. */
  async function contentOf(value: unknown): Promise<Buffer> {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw validationError('null', 'content', 'Member must not be null');
    }
    const content = value as Record<string, unknown>;
    let zip: Buffer;
    if (typeof content.ZipFile === 'string') {
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(content.ZipFile)) {
        throw invalidParameter('Content.ZipFile must be base64.');
      }
      zip = Buffer.from(content.ZipFile, 'base64');
    } else if (typeof content.S3Bucket === 'string' && typeof content.S3Key === 'string') {
      const bytes = await deps.readS3Object?.(content.S3Bucket, content.S3Key);
      if (!bytes) {
        throw invalidParameter(
          `Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: The specified key does not exist. (s3://${content.S3Bucket}/${content.S3Key})`,
        );
      }
      zip = bytes;
    } else {
      throw invalidParameter(
        'Please provide a source for layer content: ZipFile, or S3Bucket and S3Key.',
      );
    }
    if (zip.length > lambdaZipLimits.maxZippedBytes) {
      throw new LambdaApiError(
        413,
        'RequestEntityTooLargeException',
        `Zipped size must be smaller than ${lambdaZipLimits.maxZippedBytes} bytes`,
      );
    }
    return zip;
  }
}

/**
 * Lambda's `Layers` of CreateFunction and UpdateFunctionConfiguration: at most 5 layer version
 * ARNs of layers that exist. Undefined when the field is absent.
 */
export async function layersField(
  input: Record<string, unknown>,
  store: Pick<Store, 'getLayerVersion'>,
): Promise<string[] | undefined> {
  const value = input.Layers;
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    throw invalidParameter('Layers must be a list of layer version ARNs.');
  }
  const arns = value as string[];
  if (arns.length > maxLayersPerFunction) {
    throw invalidParameter(`Cannot reference more than ${maxLayersPerFunction} layers.`);
  }
  for (const arn of arns) {
    const address = parseLayerVersionArn(arn);
    if (!address)
      throw validationError(`[${arns.join(', ')}]`, 'layers', layerVersionArnConstraint);
    const row =
      address.account === NIMBUS_ACCOUNT_ID
        ? await store.getLayerVersion(address.name, address.version)
        : undefined;
    if (!row) throw invalidParameter(`Layer version ${arn} does not exist.`);
  }
  return arns;
}

/** `{LayerName}` in a path: a name or a layer ARN (`arn:...:layer:<name>`). */
function layerNameOf(raw: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    decoded = raw;
  }
  const name = /^arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\d{12}:layer:([^:]+)$/.exec(decoded)?.[1];
  const out = name ?? decoded;
  if (!layerNamePattern.test(out)) {
    throw validationError(
      decoded,
      'layerName',
      'Member must satisfy regular expression pattern: (arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+)|[a-zA-Z0-9-_]+',
    );
  }
  return out;
}

function versionNumber(raw: string): number {
  if (!/^[0-9]{1,15}$/.test(raw) || Number(raw) < 1) {
    throw validationError(raw, 'versionNumber', 'Member must be a positive whole number');
  }
  return Number(raw);
}

function listField(input: Record<string, unknown>, name: string, max: number) {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    throw invalidParameter(`${name} must be a list of strings.`);
  }
  if (value.length > max) {
    throw validationError(
      `[${value.join(', ')}]`,
      name.charAt(0).toLowerCase() + name.slice(1),
      `Member must have length less than or equal to ${max}`,
    );
  }
  return value as string[];
}

/** CompatibleRuntime / CompatibleArchitecture filters of ListLayers and ListLayerVersions. */
function matches(row: LayerVersionRow, query: URLSearchParams): boolean {
  const runtime = query.get('CompatibleRuntime');
  const arch = query.get('CompatibleArchitecture');
  if (runtime && !(row.settings.compatibleRuntimes ?? []).includes(runtime)) return false;
  if (arch && !(row.settings.compatibleArchitectures ?? []).includes(arch)) return false;
  return true;
}

function paginate<T>(rows: T[], query: URLSearchParams): { page: T[]; next?: string } {
  const rawMax = query.get('MaxItems');
  const max = rawMax === null ? 50 : Number(rawMax);
  if (!Number.isInteger(max) || max < 1 || max > 50) {
    throw validationError(String(rawMax), 'maxItems', 'Member must be between 1 and 50');
  }
  const marker = query.get('Marker');
  const start = marker === null ? 0 : Number(marker);
  if (!Number.isInteger(start) || start < 0) throw invalidParameter('Marker is not valid.');
  const page = rows.slice(start, start + max);
  return start + max < rows.length ? { page, next: String(start + max) } : { page };
}

function listItem(region: string, row: LayerVersionRow) {
  const s = row.settings;
  return {
    LayerVersionArn: layerVersionArn(region, row.name, row.version),
    Version: row.version,
    Description: s.description ?? '',
    CreatedDate: lambdaTimestamp(row.createdAt),
    ...(s.compatibleRuntimes ? { CompatibleRuntimes: s.compatibleRuntimes } : {}),
    ...(s.licenseInfo !== undefined ? { LicenseInfo: s.licenseInfo } : {}),
    ...(s.compatibleArchitectures ? { CompatibleArchitectures: s.compatibleArchitectures } : {}),
  };
}

export function layerVersionView(region: string, row: LayerVersionRow) {
  return {
    Content: { CodeSha256: base64Sha256(row.codeSha256), CodeSize: row.codeSize },
    LayerArn: layerArn(region, row.name),
    ...listItem(region, row),
  };
}
