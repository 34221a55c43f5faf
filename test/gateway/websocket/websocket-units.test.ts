import assert from 'node:assert/strict';
import { test } from 'node:test';
import { endpointsOf } from '../../../src/platform/gateway/route-loader.js';
import {
  connectionsPathOf,
  websocketTargetOf,
} from '../../../src/platform/gateway/websocket/websocket-gateway.js';
import {
  apiIdOf,
  selectionPathOf,
} from '../../../src/platform/gateway/websocket/websocket-table.js';
import { fnDef, serviceDef } from '../../helpers/definitions.js';

test('upgrades find their API by path or by host', () => {
  assert.equal(websocketTargetOf('127.0.0.1:3000', '/svc-dev'), 'svc-dev');
  assert.equal(websocketTargetOf('127.0.0.1:3000', '/svc-dev/'), 'svc-dev');
  assert.equal(websocketTargetOf('svc-dev.ws.localhost:3000', '/'), 'svc-dev');
  assert.equal(websocketTargetOf('127.0.0.1:3000', '/svc-dev/x'), undefined);
  assert.equal(websocketTargetOf('127.0.0.1', '/../etc'), undefined);
});

test('the @connections path is read relative to the stage, ids decoded', () => {
  assert.equal(connectionsPathOf('/dev/@connections/abc%3D'), 'abc=');
  assert.equal(connectionsPathOf('/@connections/abc='), 'abc=');
  assert.equal(connectionsPathOf('/dev/@connections/'), undefined);
  assert.equal(connectionsPathOf('/dev/@connections/%E0%A4%A'), undefined);
  assert.equal(connectionsPathOf('/dev/other/abc'), undefined);
});

test('route selection expressions and api ids', () => {
  assert.deepEqual(selectionPathOf(undefined), ['action']);
  assert.deepEqual(selectionPathOf('$request.body.message.type'), ['message', 'type']);
  assert.throws(() => selectionPathOf('$request.header.x'));
  assert.match(apiIdOf('svc-dev'), /^[a-z0-9]{10}$/);
  assert.equal(apiIdOf('svc-dev'), apiIdOf('svc-dev'));
  assert.notEqual(apiIdOf('svc-dev'), apiIdOf('svc-prod'));
});

test('deploy and info print the WebSocket addresses', () => {
  const definition = serviceDef([
    fnDef('connect', { events: [{ kind: 'websocket', config: { route: '$connect' } }] }),
  ]);
  assert.deepEqual(endpointsOf(definition, 'http://127.0.0.1:3000'), [
    'ws://127.0.0.1:3000/svc-dev',
    'ws://svc-dev.ws.localhost:3000',
  ]);
});
