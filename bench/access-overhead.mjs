// Access control cost on the gateway path, in process (fake invoker, real HTTP, keep-alive):
// p50 of a public route against a REST route with a cached Lambda authorizer. `npm run build`
// first, then `node bench/access-overhead.mjs`. Sequential requests, so load on the machine shows.
import { Agent, createServer, request } from 'node:http';

const { default: pino } = await import('pino');
const root = new URL('..', import.meta.url).pathname.replace(/\/$/, '');
const { GatewayListener } = await import(`${root}/dist/src/platform/gateway/gateway-listener.js`);
const { compileRouteTable } = await import(`${root}/dist/src/platform/gateway/route-table.js`);
const { routesOfService } = await import(`${root}/dist/src/platform/gateway/service-routes.js`);
const { AccessGate } = await import(`${root}/dist/src/platform/gateway/access/access-gate.js`);
const { JwksCache } = await import(`${root}/dist/src/platform/gateway/access/jwks-cache.js`);
const { UsageLimiter } = await import(`${root}/dist/src/platform/gateway/access/usage-limiter.js`);
const fn = (key, events) => ({
  key,
  name: `svc-dev-${key}`,
  handler: 'h.h',
  handlerFile: 'h.js',
  runtime: 'nodejs20.x',
  runtimeFamily: 'nodejs',
  memorySize: 128,
  timeout: 6,
  environment: {},
  events,
});
const def = {
  service: 'svc',
  stage: 'dev',
  region: 'us-east-1',
  provider: { name: 'aws', runtime: 'nodejs20.x', memorySize: 128, timeout: 6, environment: {} },
  package: {},
  plugins: [],
  custom: {},
  functions: {
    hello: fn('hello', [
      { kind: 'http', method: 'GET', path: 'open' },
      { kind: 'http', method: 'GET', path: 'guarded', authorizer: 'auth' },
    ]),
    auth: fn('auth', []),
  },
};
const { routes, settings } = routesOfService(def);
const policy = JSON.stringify({
  principalId: 'u',
  policyDocument: { Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: '*' }] },
  context: { a: 1 },
});
let authCalls = 0;
const invoker = {
  async invoke(name) {
    if (name === 'svc-dev-auth') {
      authCalls++;
      return { result: { outcome: { status: 'ok', payload: policy } } };
    }
    return { result: { outcome: { status: 'ok', payload: '{"statusCode":200,"body":"ok"}' } } };
  },
  async resolve() {
    throw new Error('x');
  },
};
const clock = { now: () => Date.now() };
const logger = pino({ level: 'silent' });
const gate = new AccessGate({
  invoker,
  clock,
  logger,
  region: 'us-east-1',
  jwks: new JwksCache({ clock }),
  verifyIam: async () => ({ ok: false }),
  scopeOf: async () => undefined,
  limiter: new UsageLimiter({ clock, counter: { take: async () => true } }),
});
const gw = new GatewayListener({
  table: compileRouteTable(routes, [settings]),
  invoker,
  clock,
  logger,
  access: gate,
});
const server = createServer((req, res) => {
  const q = req.url.indexOf('?');
  gw.handle(req, res, q < 0 ? req.url : req.url.slice(0, q), '');
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const port = server.address().port;
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const one = (path) =>
  new Promise((resolve) => {
    const t = process.hrtime.bigint();
    const req = request(
      { port, host: '127.0.0.1', path, agent, headers: { authorization: 'tok' } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(Number(process.hrtime.bigint() - t) / 1e6));
      },
    );
    req.end();
  });
const p = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(q * (s.length - 1))];
};
for (let i = 0; i < 500; i++) {
  await one('/svc-dev/open');
  await one('/svc-dev/guarded');
}
const open = [],
  guarded = [];
for (let i = 0; i < 5000; i++) {
  open.push(await one('/svc-dev/open'));
  guarded.push(await one('/svc-dev/guarded'));
}
console.log(
  JSON.stringify({
    authorizerCalls: authCalls,
    openP50: p(open, 0.5).toFixed(4),
    guardedP50: p(guarded, 0.5).toFixed(4),
    diffP50Ms: (p(guarded, 0.5) - p(open, 0.5)).toFixed(4),
    openP90: p(open, 0.9).toFixed(4),
    guardedP90: p(guarded, 0.9).toFixed(4),
  }),
);
server.close();
agent.destroy();
