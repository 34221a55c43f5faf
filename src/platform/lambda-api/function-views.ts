/**
 * Nimbus's functions, versions and aliases in the shapes Lambda's control API answers with
 * (FunctionConfiguration, AliasConfiguration); docs/lambda-api.md lists each field's source.
 */
import { createHash } from 'node:crypto';
import { NIMBUS_ACCOUNT_ID } from '../../model/account.js';
import type { AliasRow, FunctionRow, VersionRow } from '../../store/store.js';

/** What the views need of a function: its row and the region of its stage. */
export interface FunctionContext {
  fn: FunctionRow;
  region: string;
}

export function arnOf(ctx: FunctionContext, qualifier?: string): string {
  const suffix = qualifier === undefined ? '' : `:${qualifier}`;
  return `arn:aws:lambda:${ctx.region}:${NIMBUS_ACCOUNT_ID}:function:${ctx.fn.name}${suffix}`;
}

/** Lambda prints SHA-256 as base64; Nimbus keeps it as hex. */
export function base64Sha256(hex: string): string {
  return Buffer.from(hex, 'hex').toString('base64');
}

/** Lambda's timestamp format: `2024-05-01T12:00:00.000+0000`. */
export function lambdaTimestamp(iso: string): string {
  return new Date(iso).toISOString().replace('Z', '+0000');
}

/**
 * `version` is what the caller named: `$LATEST` (the newest version: every Nimbus deploy
 * publishes, so the head and the newest version hold the same code) or the version's number.
 */
export function functionConfiguration(
  ctx: FunctionContext,
  row: VersionRow,
  version: string,
  opts: { qualifiedArn: boolean },
) {
  const c = row.config;
  return {
    FunctionName: ctx.fn.name,
    FunctionArn: arnOf(ctx, opts.qualifiedArn ? version : undefined),
    Runtime: c.runtime,
    Role: `arn:aws:iam::${NIMBUS_ACCOUNT_ID}:role/nimbus-function`,
    Handler: c.handler,
    CodeSize: row.codeSize,
    Description: c.description ?? '',
    Timeout: c.timeout,
    MemorySize: c.memorySize,
    LastModified: lambdaTimestamp(row.createdAt),
    CodeSha256: base64Sha256(row.codeSha256),
    Version: version,
    Environment: { Variables: c.environment },
    TracingConfig: { Mode: 'PassThrough' },
    ...(c.deadLetterTarget ? { DeadLetterConfig: { TargetArn: c.deadLetterTarget } } : {}),
    RevisionId: functionRevision(row),
    State: 'Active',
    LastUpdateStatus: 'Successful',
    PackageType: 'Zip',
    Architectures: [process.arch === 'arm64' ? 'arm64' : 'x86_64'],
    EphemeralStorage: { Size: 512 },
    ...functionLayersView(c.layerVersions),
  };
}

/** FunctionConfiguration.Layers: the layer versions the version runs with. */
export function functionLayersView(layers: { arn: string; codeSize: number }[] | undefined): {
  Layers?: { Arn: string; CodeSize: number }[];
} {
  if (!layers || layers.length === 0) return {};
  return { Layers: layers.map((l) => ({ Arn: l.arn, CodeSize: l.codeSize })) };
}

export function aliasConfiguration(ctx: FunctionContext, alias: AliasRow) {
  const weights = alias.routing ?? {};
  return {
    AliasArn: arnOf(ctx, alias.name),
    Name: alias.name,
    FunctionVersion: String(alias.version),
    Description: alias.description ?? '',
    ...(Object.keys(weights).length > 0
      ? { RoutingConfig: { AdditionalVersionWeights: weights } }
      : {}),
    RevisionId: aliasRevision(alias),
  };
}

/**
 * Changes whenever the version's code or configuration does, so RevisionId guards
 * (UpdateFunctionCode, UpdateFunctionConfiguration) can compare.
 */
export function functionRevision(row: VersionRow): string {
  return uuidShaped(`${row.codeSha256}:${row.configSha256}`);
}

/** Changes whenever the alias does, so RevisionId guards (Update/DeleteAlias) can compare. */
function aliasRevision(alias: AliasRow): string {
  return uuidShaped(JSON.stringify([alias.version, alias.routing ?? {}, alias.description ?? '']));
}

function uuidShaped(text: string): string {
  const h = createHash('sha256').update(text).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
