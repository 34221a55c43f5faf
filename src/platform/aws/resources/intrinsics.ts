/**
 * The CloudFormation intrinsic functions Nimbus evaluates: `Ref`, `Fn::GetAtt`, `Fn::Sub`,
 * `Fn::Join`, `Fn::Select`, `Fn::Split`. Anything else that looks like an intrinsic
 * (`Fn::If`, `Fn::ImportValue`, ...) is refused with its path: leaving it in place would hand a
 * function or a service an object where AWS would have given a string.
 */
import { isIntrinsic } from '../../../model/intrinsic.js';
import { TemplateError } from './template-error.js';

export { isIntrinsic };

export const SUPPORTED_INTRINSICS = [
  'Ref',
  'Fn::GetAtt',
  'Fn::Sub',
  'Fn::Join',
  'Fn::Select',
  'Fn::Split',
] as const;

/** How a reference resolves; both throw TemplateError (with `path`) for unknown names. */
export interface ReferenceResolver {
  /** `Ref` of a logical id (pseudo parameters are handled by the evaluator). */
  ref(logicalId: string, path: string): string;
  getAtt(logicalId: string, attribute: string, path: string): string;
}

/** Pseudo parameters (`AWS::Region`, ...) by their full name. */
export type PseudoParameters = Record<string, string>;

export function pseudoParameters(scope: {
  region: string;
  accountId: string;
  service: string;
  stage: string;
}): PseudoParameters {
  return {
    'AWS::Region': scope.region,
    'AWS::AccountId': scope.accountId,
    // The Serverless Framework's stack name: `<service>-<stage>`.
    'AWS::StackName': `${scope.service}-${scope.stage}`,
    'AWS::StackId': `arn:aws:cloudformation:${scope.region}:${scope.accountId}:stack/${scope.service}-${scope.stage}/nimbus`,
    'AWS::Partition': 'aws',
    'AWS::URLSuffix': 'amazonaws.com',
  };
}

export interface EvaluationContext {
  pseudo: PseudoParameters;
  resolver: ReferenceResolver;
}

/** Evaluates every intrinsic in `value` (recursively), returning plain JSON. */
export function evaluate(value: unknown, path: string, ctx: EvaluationContext): unknown {
  if (Array.isArray(value)) return value.map((v, i) => evaluate(v, `${path}.${i}`, ctx));
  if (typeof value !== 'object' || value === null) return value;
  if (isIntrinsic(value)) {
    const [name, arg] = Object.entries(value)[0]!;
    return evaluateIntrinsic(name, arg, `${path}.${name}`, ctx);
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = evaluate(v, `${path}.${k}`, ctx);
  return out;
}

/** Evaluates `value` and requires a string (environment values, names, ARNs). */
export function evaluateString(value: unknown, path: string, ctx: EvaluationContext): string {
  const result = evaluate(value, path, ctx);
  if (typeof result === 'number' || typeof result === 'boolean') return String(result);
  if (typeof result !== 'string') throw new TemplateError(path, 'must resolve to a string');
  return result;
}

function evaluateIntrinsic(
  name: string,
  arg: unknown,
  path: string,
  ctx: EvaluationContext,
): unknown {
  switch (name) {
    case 'Ref':
      return evaluateRef(arg, path, ctx);
    case 'Fn::GetAtt': {
      const [id, attribute] = getAttArguments(arg, path, ctx);
      return ctx.resolver.getAtt(id, attribute, path);
    }
    case 'Fn::Sub':
      return evaluateSub(arg, path, ctx);
    case 'Fn::Join': {
      if (!Array.isArray(arg) || arg.length !== 2 || typeof arg[0] !== 'string') {
        throw new TemplateError(path, 'must be [delimiter, [values...]]');
      }
      const list = stringList(evaluate(arg[1], `${path}.1`, ctx), `${path}.1`);
      return list.join(arg[0]);
    }
    case 'Fn::Select': {
      if (!Array.isArray(arg) || arg.length !== 2) {
        throw new TemplateError(path, 'must be [index, [values...]]');
      }
      const index = Number(evaluate(arg[0], `${path}.0`, ctx));
      const list = evaluate(arg[1], `${path}.1`, ctx);
      if (!Array.isArray(list)) throw new TemplateError(`${path}.1`, 'must be a list');
      if (!Number.isInteger(index) || index < 0 || index >= list.length) {
        throw new TemplateError(
          `${path}.0`,
          `index must be an integer from 0 to ${list.length - 1}`,
        );
      }
      return list[index];
    }
    case 'Fn::Split': {
      if (!Array.isArray(arg) || arg.length !== 2 || typeof arg[0] !== 'string' || arg[0] === '') {
        throw new TemplateError(path, 'must be [delimiter, string]');
      }
      const source = evaluate(arg[1], `${path}.1`, ctx);
      if (typeof source !== 'string') throw new TemplateError(`${path}.1`, 'must be a string');
      return source.split(arg[0]);
    }
    default:
      throw new TemplateError(
        path,
        `the intrinsic function ${name} is not supported by Nimbus (supported: ${SUPPORTED_INTRINSICS.join(', ')})`,
      );
  }
}

function evaluateRef(arg: unknown, path: string, ctx: EvaluationContext): string {
  if (typeof arg !== 'string' || arg === '') {
    throw new TemplateError(path, 'must be a logical id or a pseudo parameter name');
  }
  if (arg.startsWith('AWS::')) return pseudo(arg, path, ctx);
  return ctx.resolver.ref(arg, path);
}

function pseudo(name: string, path: string, ctx: EvaluationContext): string {
  const value = ctx.pseudo[name];
  if (value === undefined) {
    const known = Object.keys(ctx.pseudo).join(', ');
    throw new TemplateError(
      path,
      `pseudo parameter ${name} is not supported (supported: ${known})`,
    );
  }
  return value;
}

/** `[id, attr]`, or the `id.attr` string form (the attribute may itself contain dots). */
function getAttArguments(arg: unknown, path: string, ctx: EvaluationContext): [string, string] {
  if (typeof arg === 'string') {
    const dot = arg.indexOf('.');
    if (dot > 0 && dot < arg.length - 1) return [arg.slice(0, dot), arg.slice(dot + 1)];
  } else if (Array.isArray(arg) && arg.length === 2 && typeof arg[0] === 'string') {
    const attribute = evaluate(arg[1], `${path}.1`, ctx);
    if (typeof attribute === 'string' && attribute !== '') return [arg[0], attribute];
  }
  throw new TemplateError(path, 'must be [logicalId, attribute] or "logicalId.attribute"');
}

function evaluateSub(arg: unknown, path: string, ctx: EvaluationContext): string {
  let template: unknown = arg;
  let variables: Record<string, string> = {};
  if (Array.isArray(arg)) {
    if (
      arg.length !== 2 ||
      typeof arg[1] !== 'object' ||
      arg[1] === null ||
      Array.isArray(arg[1])
    ) {
      throw new TemplateError(path, 'must be a string or [string, {variable: value}]');
    }
    template = arg[0];
    variables = Object.fromEntries(
      Object.entries(arg[1] as Record<string, unknown>).map(([k, v]) => [
        k,
        evaluateString(v, `${path}.1.${k}`, ctx),
      ]),
    );
  }
  if (typeof template !== 'string') throw new TemplateError(path, 'the template must be a string');
  return template.replace(/\$\{([^}]*)\}/g, (_, inner: string) => {
    // `${!Literal}` writes `${Literal}` as is.
    if (inner.startsWith('!')) return `\${${inner.slice(1)}}`;
    const name = inner.trim();
    if (Object.hasOwn(variables, name)) return variables[name]!;
    if (name.startsWith('AWS::')) return pseudo(name, path, ctx);
    const dot = name.indexOf('.');
    if (dot > 0) return ctx.resolver.getAtt(name.slice(0, dot), name.slice(dot + 1), path);
    if (name === '') throw new TemplateError(path, 'empty ${} in the template');
    return ctx.resolver.ref(name, path);
  });
}

function stringList(value: unknown, path: string): string[] {
  if (!Array.isArray(value)) throw new TemplateError(path, 'must be a list');
  return value.map((v, i) => {
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    throw new TemplateError(`${path}.${i}`, 'must be a string');
  });
}

/**
 * The logical ids `value` refers to (Ref, GetAtt, Fn::Sub variables not given in its map),
 * without evaluating anything: the edges of the dependency graph.
 */
export function referencedIds(value: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    for (const v of value) referencedIds(v, out);
    return out;
  }
  if (typeof value !== 'object' || value === null) return out;
  if (isIntrinsic(value)) {
    const [name, arg] = Object.entries(value)[0]!;
    if (name === 'Ref' && typeof arg === 'string' && !arg.startsWith('AWS::')) out.add(arg);
    else if (name === 'Fn::GetAtt') {
      const id = typeof arg === 'string' ? arg.split('.')[0] : Array.isArray(arg) ? arg[0] : '';
      if (typeof id === 'string' && id !== '') out.add(id);
    } else if (name === 'Fn::Sub') {
      const template = Array.isArray(arg) ? arg[0] : arg;
      const given = Array.isArray(arg) && typeof arg[1] === 'object' && arg[1] ? arg[1] : {};
      if (typeof template === 'string') {
        for (const [, inner] of template.matchAll(/\$\{([^}]*)\}/g)) {
          const name = inner!.trim();
          if (name.startsWith('!') || name.startsWith('AWS::') || Object.hasOwn(given, name))
            continue;
          if (name !== '') out.add(name.split('.')[0]!);
        }
      }
      if (Array.isArray(arg)) referencedIds(arg[1], out);
    } else referencedIds(arg, out);
    return out;
  }
  for (const v of Object.values(value)) referencedIds(v, out);
  return out;
}
