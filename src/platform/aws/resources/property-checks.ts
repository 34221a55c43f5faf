/** Property checks the provisioners share: each failure names the property it is about. */
import { createHash } from 'node:crypto';
import {
  type ResourceDeclaration,
  ResourcePropertyError,
  type ResourceScope,
} from './provisioner.js';

/**
 * Refuses properties outside `honoured` and `noEffect` (never ignored silently). `noEffect`
 * lists properties that change nothing on Nimbus (tags, encryption at rest, billing).
 */
export function checkKnownProperties(
  declaration: ResourceDeclaration,
  honoured: readonly string[],
  noEffect: readonly string[] = [],
): void {
  for (const name of Object.keys(declaration.properties)) {
    if (honoured.includes(name) || noEffect.includes(name)) continue;
    throw new ResourcePropertyError(
      declaration.logicalId,
      `Properties.${name}`,
      `${declaration.type} property ${name} is not supported by Nimbus (supported: ${[...honoured, ...noEffect].join(', ')})`,
    );
  }
}

export function optionalString(d: ResourceDeclaration, name: string): string | undefined {
  const value = d.properties[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') {
    throw new ResourcePropertyError(
      d.logicalId,
      `Properties.${name}`,
      'must be a non-empty string',
    );
  }
  return value;
}

/** CloudFormation accepts booleans as `true` or `"true"`. */
export function optionalBoolean(d: ResourceDeclaration, name: string): boolean | undefined {
  const value = d.properties[name];
  if (value === undefined) return undefined;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new ResourcePropertyError(d.logicalId, `Properties.${name}`, 'must be true or false');
}

/** Integers, as numbers or numeric strings (YAML and `${env:}` give both). */
export function optionalInteger(
  d: ResourceDeclaration,
  name: string,
  min: number,
  max: number,
): number | undefined {
  const value = d.properties[name];
  if (value === undefined) return undefined;
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new ResourcePropertyError(
      d.logicalId,
      `Properties.${name}`,
      `must be an integer from ${min} to ${max}`,
    );
  }
  return n;
}

/**
 * CloudFormation's generated physical name when none is given: `<stack>-<logicalId>-<suffix>`.
 * The suffix is a hash of the stage and logical id rather than random, so the name (and every
 * reference to it) is the same on every deploy.
 */
export function generatedName(
  scope: ResourceScope,
  logicalId: string,
  opts: { maxLength: number; lowerCase?: boolean; allowed?: RegExp },
): string {
  const suffix = createHash('sha256')
    .update(`${scope.service}\0${scope.stage}\0${logicalId}`)
    .digest('hex')
    .slice(0, 12);
  const allowed = opts.allowed ?? /[^A-Za-z0-9-]/g;
  let head = `${scope.service}-${scope.stage}-${logicalId}`.replace(allowed, '-');
  if (opts.lowerCase) head = head.toLowerCase();
  head = head.slice(0, opts.maxLength - suffix.length - 1).replace(/[-.]+$/, '');
  return `${head}-${suffix}`;
}

/** The platform URL's `host:port`, for addresses built on it. */
export function platformHost(scope: ResourceScope): string {
  try {
    return new URL(scope.platformUrl).host;
  } catch {
    return 'localhost';
  }
}
