/**
 * Custom domain names for a service stage's HTTP routes (docs/gateway.md#custom-domains), from
 * `custom.nimbus.domains: [{domainName, basePath}]` or serverless-domain-manager's
 * `custom.customDomain` / `custom.customDomains` (`domainName`, `basePath`, `stage`, `enabled`,
 * `apiType`; its AWS keys, certificates, Route 53, endpoint types, are not Nimbus's to apply).
 * Checked at load and deploy (definition-rules.ts) and compiled into the route table.
 */

export interface DomainSetting {
  /** Lower-case host name. */
  domainName: string;
  /** Without leading or trailing slash; `''` for the domain's root. */
  basePath: string;
}

export interface DomainProblem {
  path: (string | number)[];
  message: string;
}

const HOST =
  /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const BASE_PATH = /^[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*$/;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

interface Entry {
  path: (string | number)[];
  value: unknown;
}

/** Every domain entry written, with where it is written. */
function entriesOf(custom: Record<string, unknown>): Entry[] {
  const entries: Entry[] = [];
  const nimbus = custom.nimbus;
  if (isPlainObject(nimbus) && nimbus.domains !== undefined) {
    if (Array.isArray(nimbus.domains)) {
      nimbus.domains.forEach((value, i) => {
        entries.push({ path: ['custom', 'nimbus', 'domains', i], value });
      });
    } else {
      entries.push({ path: ['custom', 'nimbus', 'domains'], value: nimbus.domains });
    }
  }
  if (custom.customDomain !== undefined) {
    entries.push({ path: ['custom', 'customDomain'], value: custom.customDomain });
  }
  if (Array.isArray(custom.customDomains)) {
    custom.customDomains.forEach((item, i) => {
      // `- rest: {...}` / `- http: {...}` / `- websocket: {...}`: the API type is the key.
      if (isPlainObject(item) && Object.keys(item).length === 1) {
        const [apiType, value] = Object.entries(item)[0]!;
        const with_ = isPlainObject(value) ? { apiType, ...value } : value;
        entries.push({ path: ['custom', 'customDomains', i, apiType], value: with_ });
      } else {
        entries.push({ path: ['custom', 'customDomains', i], value: item });
      }
    });
  }
  return entries;
}

function read(entry: Entry, stage: string): { domain?: DomainSetting; problem?: DomainProblem } {
  const { path, value } = entry;
  if (!isPlainObject(value)) return { problem: { path, message: 'must be a map with domainName' } };
  const name = value.domainName;
  if (typeof name !== 'string' || !HOST.test(name.toLowerCase())) {
    return {
      problem: {
        path: [...path, 'domainName'],
        message: 'must be a host name (api.example.com)',
      },
    };
  }
  let basePath = '';
  if (value.basePath !== undefined && value.basePath !== null) {
    if (typeof value.basePath !== 'string') {
      return { problem: { path: [...path, 'basePath'], message: 'must be a string' } };
    }
    const trimmed = value.basePath.replace(/^\/+|\/+$/g, '');
    const dotSegment = trimmed.split('/').some((seg) => seg === '.' || seg === '..');
    if (trimmed !== '' && trimmed !== '(none)' && (!BASE_PATH.test(trimmed) || dotSegment)) {
      return {
        problem: {
          path: [...path, 'basePath'],
          message:
            'must be path segments of letters, digits, ".", "_", "~" and "-", no "." or ".." (or "(none)")',
        },
      };
    }
    basePath = trimmed === '(none)' ? '' : trimmed;
  }
  if (value.enabled === false) return {};
  // serverless-domain-manager: a domain for another stage than the one deployed is not this one's.
  if (typeof value.stage === 'string' && value.stage !== stage) return {};
  // WebSocket APIs have their own addresses (docs/websockets.md); this mapping is for routes.
  if (value.apiType === 'websocket') return {};
  return { domain: { domainName: name.toLowerCase(), basePath } };
}

/** The domains serving `stage` of a service, from its `custom` block. */
export function domainsOf(custom: Record<string, unknown>, stage: string): DomainSetting[] {
  const out: DomainSetting[] = [];
  for (const entry of entriesOf(custom)) {
    const { domain } = read(entry, stage);
    if (
      domain &&
      !out.some((d) => d.domainName === domain.domainName && d.basePath === domain.basePath)
    ) {
      out.push(domain);
    }
  }
  return out;
}

/** What is wrong with the domain settings, each at its path. */
export function domainProblems(custom: Record<string, unknown>, stage: string): DomainProblem[] {
  const problems: DomainProblem[] = [];
  for (const entry of entriesOf(custom)) {
    const { problem } = read(entry, stage);
    if (problem) problems.push(problem);
  }
  return problems;
}
