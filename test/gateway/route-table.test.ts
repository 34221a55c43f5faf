import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HttpApiEvent, HttpEvent } from '../../src/model/service-definition.js';
import {
  compileRouteTable,
  type RouteLookup,
  type RouteSource,
} from '../../src/platform/gateway/route-table.js';

function http(functionKey: string, method: string, path: string): RouteSource {
  const event: HttpEvent = { kind: 'http', method, path };
  return {
    service: 'my-svc',
    stage: 'dev',
    functionKey,
    functionName: `my-svc-dev-${functionKey}`,
    event,
  };
}

function api(functionKey: string, method: string, path: string): RouteSource {
  const event: HttpApiEvent = { kind: 'httpApi', method, path };
  return {
    service: 'my-svc',
    stage: 'dev',
    functionKey,
    functionName: `my-svc-dev-${functionKey}`,
    event,
  };
}

function routeOf(found: RouteLookup | undefined) {
  assert.ok(found, 'expected a match');
  assert.equal(found.type, 'route');
  return found;
}

describe('route table: precedence', () => {
  const table = compileRouteTable([
    http('greedy', 'ANY', 'users/{proxy+}'),
    http('byId', 'GET', 'users/{id}'),
    http('me', 'GET', 'users/me'),
    http('deleteAny', 'ANY', 'users/{id}'),
    http('profile', 'GET', 'users/{id}/profile'),
    http('meThing', 'GET', 'users/me/{thing}'),
    http('root', 'GET', ''),
  ]);

  it('compiles every route', () => {
    assert.equal(table.size, 7);
    assert.deepEqual(table.warnings, []);
  });

  it('literal beats param beats greedy', () => {
    assert.equal(
      routeOf(table.lookup('GET', '/my-svc-dev/users/me', undefined)).route.functionKey,
      'me',
    );
    const byId = routeOf(table.lookup('GET', '/my-svc-dev/users/42', undefined));
    assert.equal(byId.route.functionKey, 'byId');
    assert.deepEqual(byId.pathParameters, { id: '42' });
    const deep = routeOf(table.lookup('GET', '/my-svc-dev/users/42/a/b', undefined));
    assert.equal(deep.route.functionKey, 'greedy');
    assert.deepEqual(deep.pathParameters, { proxy: '42/a/b' });
  });

  it('backtracks from a literal branch that cannot finish', () => {
    const found = routeOf(table.lookup('GET', '/my-svc-dev/users/me/profile', undefined));
    assert.equal(found.route.functionKey, 'meThing');
    const other = routeOf(table.lookup('GET', '/my-svc-dev/users/7/profile', undefined));
    assert.equal(other.route.functionKey, 'profile');
    assert.deepEqual(other.pathParameters, { id: '7' });
  });

  it('exact method beats ANY on the same path; ANY takes the rest', () => {
    assert.equal(
      routeOf(table.lookup('GET', '/my-svc-dev/users/9', undefined)).route.functionKey,
      'byId',
    );
    assert.equal(
      routeOf(table.lookup('DELETE', '/my-svc-dev/users/9', undefined)).route.functionKey,
      'deleteAny',
    );
  });

  it('reports resource, routeKey and stagePath', () => {
    const found = routeOf(table.lookup('GET', '/my-svc-dev/users/42', undefined));
    assert.equal(found.resource, '/users/{id}');
    assert.equal(found.routeKey, 'GET /users/{id}');
    assert.equal(found.basePath, '/my-svc-dev');
    assert.equal(found.path, '/users/42');
    assert.equal(found.stagePath, '/dev/users/42');
  });

  it('serves the root resource and the bare base', () => {
    const bare = routeOf(table.lookup('GET', '/my-svc-dev', undefined));
    assert.equal(bare.route.functionKey, 'root');
    assert.equal(bare.path, '/');
    assert.equal(bare.resource, '/');
    assert.equal(routeOf(table.lookup('GET', '/my-svc-dev/', undefined)).route.functionKey, 'root');
  });

  it('a greedy variable needs at least one segment', () => {
    assert.equal(table.lookup('GET', '/my-svc-dev/users', undefined), undefined);
  });

  it('404: unknown base, unknown path, unknown method', () => {
    assert.equal(table.lookup('GET', '/other-dev/users/1', undefined), undefined);
    assert.equal(table.lookup('GET', '/my-svc-dev/nothing', undefined), undefined);
    assert.equal(table.lookup('POST', '/my-svc-dev/users/me/x/y', undefined)?.type, 'route');
    assert.equal(table.lookup('POST', '/my-svc-dev', undefined), undefined);
  });
});

describe('route table: HTTP API', () => {
  const table = compileRouteTable([
    api('list', 'GET', '/pets'),
    api('any', '*', '/pets/{id}'),
    api('put', 'PUT', '/pets/{id}'),
    api('files', 'GET', '/files/{path+}'),
    api('fallback', '*', '*'),
  ]);

  it('* is any method; exact wins; route keys say ANY', () => {
    const put = routeOf(table.lookup('PUT', '/my-svc-dev/pets/1', undefined));
    assert.equal(put.route.functionKey, 'put');
    const patch = routeOf(table.lookup('PATCH', '/my-svc-dev/pets/1', undefined));
    assert.equal(patch.route.functionKey, 'any');
    assert.equal(patch.routeKey, 'ANY /pets/{id}');
  });

  it('$default catches what nothing else matches', () => {
    const found = routeOf(table.lookup('POST', '/my-svc-dev/nowhere/at/all', undefined));
    assert.equal(found.route.functionKey, 'fallback');
    assert.equal(found.routeKey, '$default');
    assert.equal(found.pathParameters, undefined);
    assert.equal(found.path, '/nowhere/at/all');
    assert.equal(routeOf(table.lookup('GET', '/my-svc-dev', undefined)).routeKey, '$default');
  });

  it('keeps a trailing slash significant: only greedy or $default take it', () => {
    assert.equal(routeOf(table.lookup('GET', '/my-svc-dev/pets/', undefined)).routeKey, '$default');
    const files = routeOf(table.lookup('GET', '/my-svc-dev/files/a/', undefined));
    assert.equal(files.route.functionKey, 'files');
    assert.deepEqual(files.pathParameters, { path: 'a/' });
  });

  it('decodes path parameters, per segment', () => {
    const one = routeOf(table.lookup('GET', '/my-svc-dev/pets/caf%C3%A9%20au%2Flait', undefined));
    assert.deepEqual(one.pathParameters, { id: 'café au/lait' });
    assert.equal(one.path, '/pets/caf%C3%A9%20au%2Flait');
    const greedy = routeOf(table.lookup('GET', '/my-svc-dev/files/a%20b/c', undefined));
    assert.deepEqual(greedy.pathParameters, { path: 'a b/c' });
    const bad = routeOf(table.lookup('GET', '/my-svc-dev/pets/%E0%A4%A', undefined));
    assert.deepEqual(bad.pathParameters, { id: '%E0%A4%A' });
  });
});

describe('route table: REST trailing slash', () => {
  it('ignores one trailing slash', () => {
    const table = compileRouteTable([http('list', 'GET', 'pets')]);
    assert.equal(
      routeOf(table.lookup('GET', '/my-svc-dev/pets/', undefined)).route.functionKey,
      'list',
    );
    assert.equal(routeOf(table.lookup('GET', '/my-svc-dev/pets/', undefined)).path, '/pets/');
  });
});

describe('route table: bases', () => {
  const sources = [
    http('a', 'GET', 'hello'),
    { ...http('b', 'GET', 'hello'), service: 'my', stage: 'svc-prod' },
  ];
  const table = compileRouteTable(sources);

  it('path form: first segment names the service stage', () => {
    assert.equal(
      routeOf(table.lookup('GET', '/my-svc-dev/hello', 'localhost:3000')).route.functionKey,
      'a',
    );
    assert.equal(
      routeOf(table.lookup('GET', '/my-svc-prod/hello', 'localhost')).route.functionKey,
      'b',
    );
    assert.equal(
      routeOf(table.lookup('GET', '/MY-SVC-DEV/hello', undefined)).basePath,
      '/MY-SVC-DEV',
    );
  });

  it('host form: <service>-<stage>.localhost[:port], the whole path is the route path', () => {
    const found = routeOf(table.lookup('GET', '/hello', 'my-svc-dev.localhost:3000'));
    assert.equal(found.route.functionKey, 'a');
    assert.equal(found.basePath, '');
    assert.equal(found.path, '/hello');
    assert.equal(
      routeOf(table.lookup('GET', '/hello', 'My-Svc-Prod.LOCALHOST')).route.functionKey,
      'b',
    );
  });

  it('an unknown host falls back to the path form', () => {
    assert.equal(
      routeOf(table.lookup('GET', '/my-svc-dev/hello', 'nope-dev.localhost')).route.functionKey,
      'a',
    );
    assert.equal(table.lookup('GET', '/hello', 'nope-dev.localhost:3000'), undefined);
    assert.equal(table.lookup('GET', '/hello', '[::1]:3000'), undefined);
  });

  it('warns about two stages claiming one base and serves the first', () => {
    const clash = compileRouteTable([
      http('a', 'GET', 'x'),
      { ...http('b', 'GET', 'y'), service: 'my', stage: 'svc-dev' },
    ]);
    assert.equal(clash.size, 1);
    assert.match(clash.warnings[0]!, /base "my-svc-dev" is already my-svc\/dev/);
  });
});

describe('route table: refused routes', () => {
  it('lists bad paths and duplicates as warnings, keeps the rest', () => {
    const table = compileRouteTable([
      http('ok', 'GET', 'ok'),
      http('dup', 'GET', 'ok'),
      http('bad', 'GET', '{proxy+}/x'),
      http('half', 'GET', 'a{b}'),
      api('d1', '*', '*'),
      api('d2', 'GET', '*'),
    ]);
    assert.equal(table.size, 2);
    assert.equal(table.warnings.length, 4);
    assert.match(table.warnings.join('\n'), /same method and path as ok/);
    assert.match(table.warnings.join('\n'), /must be the last segment/);
    assert.match(table.warnings.join('\n'), /whole segment/);
    assert.match(table.warnings.join('\n'), /duplicate \$default/);
  });
});

describe('route table: 1,000 routes', () => {
  it('matches each of them, and its neighbours, correctly', () => {
    const sources: RouteSource[] = [];
    for (let i = 0; i < 250; i++) {
      sources.push(http(`list${i}`, 'GET', `r${i}`));
      sources.push(http(`get${i}`, 'GET', `r${i}/{id}`));
      sources.push(http(`lit${i}`, 'POST', `r${i}/new`));
      sources.push(http(`any${i}`, 'ANY', `r${i}/{id}/{proxy+}`));
    }
    const table = compileRouteTable(sources);
    assert.equal(table.size, 1000);
    for (let i = 0; i < 250; i++) {
      assert.equal(
        routeOf(table.lookup('GET', `/my-svc-dev/r${i}`, undefined)).route.functionKey,
        `list${i}`,
      );
      const byId = routeOf(table.lookup('GET', `/my-svc-dev/r${i}/x${i}`, undefined));
      assert.equal(byId.route.functionKey, `get${i}`);
      assert.deepEqual(byId.pathParameters, { id: `x${i}` });
      assert.equal(
        routeOf(table.lookup('POST', `/my-svc-dev/r${i}/new`, undefined)).route.functionKey,
        `lit${i}`,
      );
      assert.equal(
        routeOf(table.lookup('GET', `/my-svc-dev/r${i}/new`, undefined)).route.functionKey,
        `get${i}`,
      );
      const deep = routeOf(table.lookup('PATCH', `/my-svc-dev/r${i}/7/a/b`, undefined));
      assert.equal(deep.route.functionKey, `any${i}`);
      assert.deepEqual(deep.pathParameters, { id: '7', proxy: 'a/b' });
    }
    assert.equal(table.lookup('GET', '/my-svc-dev/r250', undefined), undefined);
    assert.equal(table.lookup('DELETE', '/my-svc-dev/r3/new', undefined), undefined);
  });
});
