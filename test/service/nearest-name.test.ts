import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { editDistance, nearestName } from '../../src/service/nearest-name.js';

describe('nearestName', () => {
  const events = ['http', 'httpApi', 'schedule', 'sqs', 's3', 'eventBridge'];

  it('suggests the closest known name for a typo', () => {
    assert.equal(nearestName('htttp', events), 'http');
    assert.equal(nearestName('shedule', events), 'schedule');
    assert.equal(nearestName('eventbrdige', events), 'eventBridge');
  });

  it('prefers a case-only difference', () => {
    assert.equal(nearestName('HTTPAPI', events), 'httpApi');
  });

  it('suggests nothing for an unrelated name', () => {
    assert.equal(nearestName('webhook', events), undefined);
    assert.equal(nearestName('x', []), undefined);
  });

  it('counts an adjacent swap as one edit', () => {
    assert.equal(editDistance('tiemout', 'timeout'), 1);
    assert.equal(editDistance('', 'abc'), 3);
  });
});
