import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { z } from 'zod';
import { httpObject } from '../../src/service/events/http.js';
import { httpApiObject } from '../../src/service/events/http-api.js';
import { scheduleObject } from '../../src/service/events/schedule.js';
import { functionSchema } from '../../src/service/schema/function-schema.js';
import { packageSchema } from '../../src/service/schema/package-schema.js';
import { providerSchema } from '../../src/service/schema/provider-schema.js';
import { serviceSchema } from '../../src/service/schema/service-schema.js';
import { SUPPORT_TABLE } from '../../src/service/support-table.js';
import { repoRoot } from '../helpers/repo-root.js';

describe('the support table', () => {
  it('matches docs/serverless-yml.md, both ways', async () => {
    const docs = await readFile(join(repoRoot, 'docs', 'serverless-yml.md'), 'utf8');
    const section = docs
      .split('<!-- support-table:start -->')[1]
      ?.split('<!-- support-table:end -->')[0];
    assert.ok(section, 'the docs have a support-table section');
    const documented = new Map<string, string>();
    for (const line of section.split('\n')) {
      const row = /^\| `([^`]+)` \| (\w+)/.exec(line);
      if (!row) continue;
      assert.ok(!documented.has(row[1]!), `${row[1]} is documented twice`);
      documented.set(row[1]!, row[2]!);
    }
    const inCode = new Map(SUPPORT_TABLE.map((rule) => [rule.path, rule.status as string]));
    assert.equal(inCode.size, SUPPORT_TABLE.length, 'no path is in the table twice');
    for (const [path, status] of inCode) {
      assert.equal(documented.get(path), status, `docs row for ${path}`);
    }
    for (const [path, status] of documented) {
      assert.equal(inCode.get(path), status, `table row for documented ${path}`);
    }
  });

  it('lists every key the schemas read, and every supported key is read by a schema', () => {
    const schemas: [string, z.ZodObject][] = [
      ['', serviceSchema],
      ['provider', providerSchema],
      ['package', packageSchema],
      ['functions.*', functionSchema],
      ['functions.*.package', packageSchema],
      ['functions.*.events[].http', httpObject],
      ['functions.*.events[].httpApi', httpApiObject],
      ['functions.*.events[].schedule', scheduleObject],
    ];
    for (const [base, schema] of schemas) {
      const prefix = base === '' ? '' : `${base}.`;
      const inSchema = Object.keys(schema.shape);
      const rows = SUPPORT_TABLE.filter(
        (r) => r.path.startsWith(prefix) && !r.path.slice(prefix.length).includes('.'),
      );
      for (const key of inSchema) {
        assert.ok(
          rows.some((r) => r.path === `${prefix}${key}`),
          `${prefix}${key} is read by a schema but missing from the support table`,
        );
      }
      for (const row of rows.filter((r) => r.status === 'supported')) {
        const key = row.path.slice(prefix.length);
        if (key.endsWith('[]') || key === '*') continue;
        assert.ok(inSchema.includes(key), `${row.path} is marked supported but no schema reads it`);
      }
    }
  });

  it('warned and refused rows say why; the others do not need to', () => {
    for (const rule of SUPPORT_TABLE) {
      if (rule.status === 'warned' || rule.status === 'refused') {
        assert.ok(rule.reason, `${rule.path} has a reason`);
      }
    }
  });
});
