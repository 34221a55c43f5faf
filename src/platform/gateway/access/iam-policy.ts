/**
 * The IAM policy a Lambda authorizer returns, judged for one `execute-api:Invoke` on one method
 * ARN as API Gateway does: an explicit Deny wins, then any Allow, else the call is refused.
 * `*` matches any run of characters and `?` one, in actions and resources alike.
 */

export type PolicyDecision = 'allow' | 'deny' | 'implicit-deny';

export interface PolicyStatement {
  effect: 'Allow' | 'Deny';
  actions: string[];
  resources: string[];
}

/** Parses a `policyDocument`; undefined when it is not one (the authorizer is misconfigured). */
export function parsePolicy(raw: unknown): PolicyStatement[] | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const doc = raw as Record<string, unknown>;
  const statements = doc.Statement ?? doc.statement;
  const list = Array.isArray(statements)
    ? statements
    : statements === undefined
      ? []
      : [statements];
  if (list.length === 0) return undefined;
  const out: PolicyStatement[] = [];
  for (const item of list) {
    if (typeof item !== 'object' || item === null) return undefined;
    const s = item as Record<string, unknown>;
    const effect = s.Effect ?? s.effect;
    if (effect !== 'Allow' && effect !== 'Deny') return undefined;
    const actions = strings(s.Action ?? s.action);
    const resources = strings(s.Resource ?? s.resource);
    if (!actions || !resources) return undefined;
    out.push({ effect, actions, resources });
  }
  return out;
}

export function decide(statements: PolicyStatement[], methodArn: string): PolicyDecision {
  let allowed = false;
  for (const s of statements) {
    if (!s.actions.some((a) => wildcardMatch(a.toLowerCase(), 'execute-api:invoke'))) continue;
    if (!s.resources.some((r) => wildcardMatch(r, methodArn))) continue;
    if (s.effect === 'Deny') return 'deny';
    allowed = true;
  }
  return allowed ? 'allow' : 'implicit-deny';
}

function strings(raw: unknown): string[] | undefined {
  const list = Array.isArray(raw) ? raw : [raw];
  return list.every((x) => typeof x === 'string') ? (list as string[]) : undefined;
}

/** Iterative glob match (no regular expression built from untrusted text, no backtracking blowup). */
export function wildcardMatch(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let mark = 0;
  while (t < text.length) {
    if (p < pattern.length && (pattern[p] === '?' || pattern[p] === text[t])) {
      p++;
      t++;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      mark = t;
    } else if (star >= 0) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}
