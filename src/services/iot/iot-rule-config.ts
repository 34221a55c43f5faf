/**
 * One `iot` event's config (docs/iot.md): `sql` (AWS IoT SQL), `sqlVersion`, `enabled`, `name`,
 * `description`. Checked at load by definition-rules.ts (file:line) and again when a stage's
 * rules are applied.
 */
import { type IotSqlStatement, parseIotSql } from './iot-sql.js';

/** The SQL versions AWS IoT accepts; they differ in corners Nimbus does not model. */
const sqlVersions = ['2015-10-08', '2016-03-23', 'beta'];

export interface IotRuleConfig {
  statement: IotSqlStatement;
  sql: string;
  enabled: boolean;
  name?: string;
}

export function iotRuleOf(config: Record<string, unknown>): IotRuleConfig {
  const sql = config.sql;
  if (typeof sql !== 'string') throw new Error('sql must be a string');
  let statement: IotSqlStatement;
  try {
    statement = parseIotSql(sql);
  } catch (error) {
    throw new Error(`sql: ${(error as Error).message}`);
  }
  if (config.sqlVersion !== undefined && !sqlVersions.includes(String(config.sqlVersion))) {
    throw new Error(`sqlVersion must be one of ${sqlVersions.join(', ')}`);
  }
  if (config.enabled !== undefined && typeof config.enabled !== 'boolean') {
    throw new Error('enabled must be true or false');
  }
  if (
    config.name !== undefined &&
    (typeof config.name !== 'string' || !/^\w{1,128}$/.test(config.name))
  ) {
    throw new Error('name must be 1 to 128 letters, digits and _ (an IoT rule name)');
  }
  return {
    statement,
    sql,
    enabled: config.enabled !== false,
    ...(typeof config.name === 'string' ? { name: config.name } : {}),
  };
}

export function iotRuleProblem(config: Record<string, unknown>): string | undefined {
  try {
    iotRuleOf(config);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
