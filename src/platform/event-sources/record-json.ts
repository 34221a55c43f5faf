import type { SourceRecord } from './source-port.js';

/**
 * A record's JSON text, made once per record: a batch's 6 MB check (collect-batch.ts) and the
 * payload sent to the function (invoke-batch.ts) use the same text instead of serializing every
 * record twice.
 */
const texts = new WeakMap<SourceRecord, string>();

export function recordJson(r: SourceRecord): string {
  if (r.json !== undefined) return r.json;
  let text = texts.get(r);
  if (text === undefined) {
    text = JSON.stringify(r.record);
    texts.set(r, text);
  }
  return text;
}
