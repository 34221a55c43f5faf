/** A function reference split as the Invoke API's FunctionName parameter allows. */
export interface FunctionRef {
  name: string;
  qualifier?: string;
}

const arn =
  /^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]*:\d*:function:([a-zA-Z0-9_-]{1,64})(?::([a-zA-Z0-9$_-]{1,128}))?$/;
const partial = /^\d+:function:([a-zA-Z0-9_-]{1,64})(?::([a-zA-Z0-9$_-]{1,128}))?$/;
const plain = /^([a-zA-Z0-9_-]{1,64})(?::([a-zA-Z0-9$_-]{1,128}))?$/;

/** Name, `name:qualifier`, a full ARN or a partial ARN (`123456789012:function:name`); else undefined. */
export function parseFunctionRef(ref: string): FunctionRef | undefined {
  const match = arn.exec(ref) ?? partial.exec(ref) ?? plain.exec(ref);
  if (!match) return undefined;
  return match[2] ? { name: match[1]!, qualifier: match[2] } : { name: match[1]! };
}

/** The ARN Nimbus reports for a function (account id fixed: there are no accounts). */
export function functionArn(region: string, name: string, qualifier?: string): string {
  return `arn:aws:lambda:${region}:000000000000:function:${name}${qualifier ? `:${qualifier}` : ''}`;
}
