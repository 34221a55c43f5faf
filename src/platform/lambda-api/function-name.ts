import { NIMBUS_ACCOUNT_ID } from '../../model/account.js';
import { invalidParameter, validationError } from './lambda-error.js';

/** A FunctionName and Qualifier as the Invoke API takes them, reduced to name and qualifier. */
export interface FunctionAddress {
  name: string;
  qualifier?: string;
  /** The region an ARN named, for the ARN in error messages. */
  region?: string;
}

// A name, name:qualifier, a full ARN, or a partial ARN (123456789012:function:name[:qualifier]).
// Region and account are only read after `arn:` or before `:function:`, so a function that happens
// to be called `ab-cd-1` is never taken for a region.
const namePart = '([a-zA-Z0-9_.-]+)(?::(\\$LATEST|[a-zA-Z0-9_-]+))?';
const fullArn = new RegExp(`^arn:aws[a-zA-Z-]*:lambda:([a-z0-9-]+):\\d{12}:function:${namePart}$`);
const partialArn = new RegExp(`^\\d{12}:function:${namePart}$`);
const bareName = new RegExp(`^${namePart}$`);
const qualifierPattern = /^[a-zA-Z0-9$_-]{1,128}$/;

/**
 * `rawName` is the path segment as sent (percent-encoded); `qualifier` the Qualifier query
 * parameter. Throws LambdaApiError (400) for what Lambda refuses.
 */
export function parseFunctionAddress(
  rawName: string,
  qualifierParam: string | null,
): FunctionAddress {
  // Lambda's Qualifier pattern, (|[a-zA-Z0-9$_-]+), admits the empty string: no qualifier.
  const qualifier = qualifierParam === '' ? null : qualifierParam;
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawName);
  } catch {
    throw validationError(rawName, 'functionName', 'Member must be valid percent-encoded text');
  }
  const match = matchFunctionName(decoded);
  if (!match) {
    throw validationError(
      decoded,
      'functionName',
      'Member must satisfy regular expression pattern: a function name, name:qualifier, ' +
        'or a function ARN',
    );
  }
  const { region, name, fromName } = match;
  if (name.length > 64) {
    throw validationError(
      decoded,
      'functionName',
      'Member must have length less than or equal to 64',
    );
  }
  if (qualifier !== null && !qualifierPattern.test(qualifier)) {
    throw validationError(
      qualifier,
      'qualifier',
      'Member must satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)',
    );
  }
  if (fromName !== undefined && qualifier !== null && fromName !== qualifier) {
    throw invalidParameter(
      'The derived qualifier from the function name does not match the specified qualifier.',
    );
  }
  const q = qualifier ?? fromName;
  return {
    name,
    ...(q === undefined ? {} : { qualifier: q }),
    ...(region === undefined ? {} : { region }),
  };
}

/** As Lambda prints it; Nimbus has no accounts, so the account is twelve zeros. */
export function functionArn(region: string, address: FunctionAddress): string {
  const qualifier = address.qualifier === undefined ? '' : `:${address.qualifier}`;
  return `arn:aws:lambda:${region}:${NIMBUS_ACCOUNT_ID}:function:${address.name}${qualifier}`;
}

function matchFunctionName(
  text: string,
): { name: string; fromName?: string; region?: string } | undefined {
  // Lambda's own cap on a FunctionName (an ARN with a qualifier included).
  if (text.length > 170) return undefined;
  const arn = fullArn.exec(text);
  if (arn) return { region: arn[1]!, name: arn[2]!, ...(arn[3] ? { fromName: arn[3] } : {}) };
  const m = partialArn.exec(text) ?? bareName.exec(text);
  if (m) return { name: m[1]!, ...(m[2] ? { fromName: m[2] } : {}) };
  return undefined;
}
