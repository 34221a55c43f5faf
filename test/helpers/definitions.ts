import type { FunctionDefinition, ServiceDefinition } from '../../src/model/service-definition.js';

/** A minimal valid function definition; override what the test is about. */
export function fnDef(
  key: string,
  overrides: Partial<FunctionDefinition> = {},
): FunctionDefinition {
  return {
    key,
    name: `svc-dev-${key}`,
    handler: `handler.${key}`,
    handlerFile: 'handler.js',
    runtime: 'nodejs20.x',
    runtimeFamily: 'nodejs',
    memorySize: 1024,
    timeout: 6,
    environment: {},
    events: [],
    ...overrides,
  };
}

export function serviceDef(
  functions: FunctionDefinition[],
  overrides: Partial<ServiceDefinition> = {},
): ServiceDefinition {
  return {
    service: 'svc',
    stage: 'dev',
    region: 'us-east-1',
    provider: { name: 'aws', runtime: 'nodejs20.x', memorySize: 1024, timeout: 6, environment: {} },
    functions: Object.fromEntries(functions.map((f) => [f.key, f])),
    package: { patterns: [], individually: false, excludeDevDependencies: true },
    plugins: [],
    custom: {},
    ...overrides,
  };
}
