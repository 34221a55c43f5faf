// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Serverless variables are written ${...} in plain strings
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTemplate } from '../../src/service/variables/parse-template.js';

describe('parseTemplate', () => {
  it('returns null for plain strings and foreign ${...} forms', () => {
    assert.equal(parseTemplate('plain'), null);
    assert.equal(parseTemplate('arn:${AWS::Region}'), null);
    assert.equal(parseTemplate('${foo}'), null);
    assert.equal(parseTemplate('${foo.bar}'), null);
  });

  it('parses a typed source with an address', () => {
    assert.deepEqual(parseTemplate('${opt:stage}'), {
      parts: [
        {
          raw: '${opt:stage}',
          sources: [{ kind: 'source', type: 'opt', params: [], address: { value: 'stage' } }],
        },
      ],
    });
  });

  it('parses params, fallbacks and literal types', () => {
    const t = parseTemplate(`\${file(./x.yml):a.b, self:c, 'd', "e", 3, true, false, null}`);
    const v = t?.parts[0];
    assert.ok(v && typeof v !== 'string');
    assert.deepEqual(v.sources[0], {
      kind: 'source',
      type: 'file',
      params: [{ value: './x.yml' }],
      address: { value: 'a.b' },
    });
    assert.deepEqual(
      v.sources.slice(2).map((s) => (s.kind === 'literal' ? s.value : undefined)),
      ['d', 'e', 3, true, false, null],
    );
  });

  it('keeps text around embedded variables and clears escapes', () => {
    const t = parseTemplate('a-${opt:x}-b \\${opt:y}');
    assert.equal(t?.parts.length, 3);
    assert.equal(t?.parts[0], 'a-');
    assert.equal(t?.parts[2], '-b ${opt:y}');
  });

  it('parses nested variables in addresses and params', () => {
    const t = parseTemplate('${env:${opt:stage}_URL}');
    const v = t?.parts[0];
    assert.ok(v && typeof v !== 'string');
    const source = v.sources[0];
    assert.ok(source?.kind === 'source' && source.address && 'template' in source.address);
    assert.equal(source.address.template.parts.length, 2);
  });

  it('rejects a bad fallback and an unterminated variable', () => {
    assert.throws(() => parseTemplate('${opt:stage, bad word}'), /invalid variable syntax/);
    assert.throws(() => parseTemplate('${opt:stage'), /missing closing/);
  });
});
