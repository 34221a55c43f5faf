import type { FunctionDefinition, ServiceDefinition } from '../../src/model/service-definition.js';
import type { DeploymentRow, VersionRow } from '../../src/store/store.js';

/** Nested objects, arrays, unicode and characters that need escaping, to prove the JSON round trip. */
export function functionConfig(key: string, memorySize = 128): FunctionDefinition {
  return {
    key,
    name: `svc-dev-${key}`,
    handler: 'src/handler.main',
    runtime: 'nodejs20.x',
    runtimeFamily: 'nodejs',
    memorySize,
    timeout: 6,
    environment: { GREETING: 'héllo "wörld" \\ \n ✓', EMPTY: '' },
    events: [
      {
        kind: 'http',
        method: 'GET',
        path: 'users/{id}',
        cors: { origins: ['*'], headers: ['Content-Type'], allowCredentials: false, maxAge: 600 },
      },
      {
        kind: 'schedule',
        rate: ['rate(5 minutes)'],
        enabled: true,
        input: { deep: [1, { a: null }] },
      },
      {
        kind: 'sqs',
        config: { arn: 'arn:aws:sqs:x', batchSize: 10, nested: { list: [true, 1.5] } },
      },
    ],
    destinations: { onFailure: 'svc-dev-dlq' },
    maximumRetryAttempts: 2,
    handlerFile: 'src/handler.ts',
  };
}

export function serviceDefinition(service = 'svc', stage = 'dev'): ServiceDefinition {
  return {
    service,
    stage,
    region: 'local',
    provider: {
      name: 'aws',
      runtime: 'nodejs20.x',
      memorySize: 1024,
      timeout: 6,
      environment: { A: '1' },
      httpApi: { cors: true, authorizers: { jwt: { issuerUrl: 'https://x', audience: ['a'] } } },
    },
    functions: { hello: functionConfig('hello') },
    package: { patterns: ['!node_modules/**'], individually: false, excludeDevDependencies: true },
    plugins: ['serverless-offline'],
    custom: { nested: { deeper: { list: [1, 'two', { three: 3 }] } } },
    resources: { Resources: {} },
  };
}

export function versionRow(functionId: number, version: number): VersionRow {
  return {
    functionId,
    version,
    codeSha256: 'a'.repeat(64),
    codeSize: 5_000_000_000,
    configSha256: `${version}`.padStart(64, 'c'),
    config: functionConfig('hello', 128 * version),
    createdAt: `2025-01-0${version}T00:00:00.000Z`,
  };
}

/** Timestamps above 2^32 so a BIGINT that came back as a string or truncated would show. */
export function deploymentRow(id: string, stageId: number, timestamp: number): DeploymentRow {
  return {
    id,
    stageId,
    timestamp,
    hash: `${id}`.padEnd(64, '0'),
    definition: serviceDefinition(),
    functions: { hello: 1, 'with space': 2 },
    artifacts: { hello: 'b'.repeat(64) },
  };
}
