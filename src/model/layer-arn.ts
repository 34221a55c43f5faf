/**
 * Lambda layer names and version ARNs, and the logical id the Serverless Framework gives a layer
 * (`{Ref: <Key>LambdaLayer}`), shared by serverless.yml loading, the deployer and the Lambda API.
 */
import { NIMBUS_ACCOUNT_ID } from './account.js';

/** Lambda's LayerName pattern (the name part), 1 to 140 characters. */
export const layerNamePattern = /^[a-zA-Z0-9-_]{1,140}$/;
/** Lambda's layer version ARN pattern. */
const layerVersionArnPattern =
  /^arn:[a-zA-Z0-9-]+:lambda:([a-zA-Z0-9-]+):(\d{12}):layer:([a-zA-Z0-9-_]+):([0-9]+)$/;
/** Lambda's cap on layers per function. */
export const maxLayersPerFunction = 5;

export interface LayerVersionAddress {
  region: string;
  account: string;
  name: string;
  version: number;
}

/** Undefined when `arn` is not a layer version ARN. */
export function parseLayerVersionArn(arn: string): LayerVersionAddress | undefined {
  const m = layerVersionArnPattern.exec(arn);
  if (!m || m[3]!.length > 140) return undefined;
  const version = Number(m[4]);
  if (!Number.isSafeInteger(version) || version < 1) return undefined;
  return { region: m[1]!, account: m[2]!, name: m[3]!, version };
}

export function layerArn(region: string, name: string): string {
  return `arn:aws:lambda:${region}:${NIMBUS_ACCOUNT_ID}:layer:${name}`;
}

export function layerVersionArn(region: string, name: string, version: number): string {
  return `${layerArn(region, name)}:${version}`;
}

/**
 * The Framework's logical id of a layer: `my-deps` → `MyDashdepsLambdaLayer` (first letter
 * upper-cased, `-` and `_` spelled out, as for functions).
 */
export function layerLogicalId(key: string): string {
  const cased = key.charAt(0).toUpperCase() + key.slice(1);
  return `${cased.replaceAll('-', 'Dash').replaceAll('_', 'Underscore')}LambdaLayer`;
}

/** `{Ref: XLambdaLayer}` → `XLambdaLayer`; anything else undefined. */
export function layerRefName(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const entries = Object.entries(value);
  if (entries.length !== 1 || entries[0]![0] !== 'Ref' || typeof entries[0]![1] !== 'string') {
    return undefined;
  }
  return entries[0]![1];
}
