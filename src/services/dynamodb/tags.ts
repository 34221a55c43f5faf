/**
 * TagResource, UntagResource, ListTagsOfResource, and CreateTable's `Tags`: a table's tags are
 * kept with its description (never shown by DescribeTable, as on DynamoDB). Nimbus does nothing
 * with them beyond answering them back; libraries read them (dynamoose's table update mode) and
 * infrastructure code sets them.
 */
import { AwsError } from '../../platform/aws/aws-error.js';
import { type DynamoDeps, type Input, requireTable } from './dynamodb-call.js';
import { validation } from './dynamodb-errors.js';
import type { TableDescriptionStored } from './table-schema.js';

export interface Tag {
  Key: string;
  Value: string;
}

/** DynamoDB's limits: 50 user tags a table, keys of 1–128 characters, values of 0–256. */
const maxTags = 50;
const maxKeyLength = 128;
const maxValueLength = 256;
/** Letters, white space, digits and `+ - = . _ : / @`. */
const allowed = /^[\p{L}\p{Z}\p{N}+\-=._:/@]*$/u;

/** The `Tags` of a TagResource or CreateTable call, checked. */
export function checkTags(raw: unknown, field = 'tags'): Tag[] {
  if (raw === undefined || raw === null) {
    throw validation(
      `1 validation error detected: Value null at '${field}' failed to satisfy constraint: Member must not be null`,
    );
  }
  if (!Array.isArray(raw)) throw validation(`Invalid ${field}: must be a list of {Key, Value}`);
  return raw.map((t: unknown, i) => {
    const tag = (t ?? {}) as { Key?: unknown; Value?: unknown };
    const where = `${field}.${i + 1}.member`;
    if (typeof tag.Key !== 'string' || [...tag.Key].length < 1) {
      throw validation(
        `1 validation error detected: Value '${String(tag.Key)}' at '${where}.key' failed to satisfy constraint: Member must have length greater than or equal to 1`,
      );
    }
    if (typeof tag.Value !== 'string') {
      throw validation(
        `1 validation error detected: Value null at '${where}.value' failed to satisfy constraint: Member must not be null`,
      );
    }
    if ([...tag.Key].length > maxKeyLength) {
      throw validation(
        `1 validation error detected: Value at '${where}.key' failed to satisfy constraint: Member must have length less than or equal to ${maxKeyLength}`,
      );
    }
    if ([...tag.Value].length > maxValueLength) {
      throw validation(
        `1 validation error detected: Value at '${where}.value' failed to satisfy constraint: Member must have length less than or equal to ${maxValueLength}`,
      );
    }
    if (!allowed.test(tag.Key) || !allowed.test(tag.Value)) {
      throw validation(
        `Invalid tag: keys and values may hold letters, digits, white space and + - = . _ : / @ only (${where})`,
      );
    }
    if (tag.Key.startsWith('aws:')) {
      throw validation(`Invalid tag key: the prefix 'aws:' is reserved for AWS (${where}.key)`);
    }
    return { Key: tag.Key, Value: tag.Value };
  });
}

/** `tags` merged onto `current`: a key given again takes its new value, in place. */
export function mergedTags(current: Tag[], tags: Tag[]): Tag[] {
  const byKey = new Map(current.map((t) => [t.Key, t.Value]));
  for (const t of tags) byKey.set(t.Key, t.Value);
  if (byKey.size > maxTags) {
    throw new AwsError(
      400,
      'LimitExceededException',
      `The number of tags exceeds the limit of ${maxTags} user tags a table`,
    );
  }
  return [...byKey].map(([Key, Value]) => ({ Key, Value }));
}

/**
 * The table an ARN names, or ResourceNotFoundException with `message`: the ARN must be the
 * table's own (this platform's region and account), as DynamoDB resolves it.
 */
async function tableOfArn(
  deps: DynamoDeps,
  input: Input,
  notFound: (arn: string) => string,
): Promise<TableDescriptionStored> {
  const arn = input.ResourceArn;
  if (typeof arn !== 'string') throw validation('Invalid TableArn');
  const m = /^arn:aws:dynamodb:[^:]+:\d+:table\/([a-zA-Z0-9_.-]{3,255})$/.exec(arn);
  if (!m) throw validation(`Invalid TableArn: Invalid ResourceArn provided as input ${arn}`);
  const missing = () => new AwsError(400, 'ResourceNotFoundException', notFound(arn));
  let table: TableDescriptionStored;
  try {
    table = (await requireTable(deps, m[1]!)).description;
  } catch (error) {
    if (error instanceof AwsError && error.awsCode === 'ResourceNotFoundException') throw missing();
    throw error;
  }
  if (table.TableArn !== arn) throw missing();
  return table;
}

const notFoundByArn = (arn: string) => `Requested resource not found: ResourcArn: ${arn} not found`;

export async function tagResource(deps: DynamoDeps, input: Input) {
  const table = await tableOfArn(deps, input, notFoundByArn);
  const tags = checkTags(input.Tags);
  if (tags.length === 0) throw validation('Atleast one Tag needs to be provided as Input.');
  const next = structuredClone(table);
  next.Tags = mergedTags(table.Tags ?? [], tags);
  await deps.store.updateDescription(next);
  return {};
}

export async function untagResource(deps: DynamoDeps, input: Input) {
  const table = await tableOfArn(deps, input, () => 'Requested resource not found');
  const keys = input.TagKeys;
  if (keys === undefined || keys === null) {
    throw validation(
      "1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null",
    );
  }
  if (!Array.isArray(keys) || keys.some((k) => typeof k !== 'string')) {
    throw validation('Invalid tagKeys: must be a list of strings');
  }
  if (keys.length === 0) throw validation('Atleast one Tag Key needs to be provided as Input.');
  const gone = new Set(keys as string[]);
  const next = structuredClone(table);
  next.Tags = (table.Tags ?? []).filter((t) => !gone.has(t.Key));
  if (next.Tags.length === 0) delete next.Tags;
  await deps.store.updateDescription(next);
  return {};
}

export async function listTagsOfResource(deps: DynamoDeps, input: Input) {
  const table = await tableOfArn(deps, input, notFoundByArn);
  // At most 50 tags: one page, so no NextToken is ever given.
  return { Tags: table.Tags ?? [] };
}
