/**
 * Which tables each DynamoDB (and DynamoDB Streams) operation names, for the shared ownership
 * check (platform/auth/resource-access.ts, docs/security.md): a function's session credentials
 * reach their own stage's tables and shared ones, nothing else.
 */
import type { AccessRule, ResourceRef } from '../../platform/auth/resource-access.js';
import { AwsError } from '../../platform/aws/aws-error.js';
import type { Input } from './dynamodb-call.js';

export const tableKind = 'AWS::DynamoDB::Table';

/** AccessDeniedException, as DynamoDB answers a principal its policy does not allow. */
export function dynamoAccessDenied(): AwsError {
  return new AwsError(
    400,
    'AccessDeniedException',
    'User is not authorized to perform this action on this resource: it belongs to another service stage',
  );
}

/** `TableName` is a name or a table ARN (`arn:aws:dynamodb:<region>:<account>:table/<name>`). */
function tableOf(value: unknown): ResourceRef[] {
  if (typeof value !== 'string') return [];
  const at = value.startsWith('arn:') ? value.indexOf(':table/') : -1;
  const name = at < 0 ? value : value.slice(at + 7).split('/')[0]!;
  return [{ kind: tableKind, name }];
}

const byName = (input: Input) => tableOf(input.TableName);
const byRequestItems = (input: Input): ResourceRef[] =>
  input.RequestItems && typeof input.RequestItems === 'object'
    ? Object.keys(input.RequestItems).flatMap(tableOf)
    : [];
const byTransactItems = (input: Input): ResourceRef[] =>
  Array.isArray(input.TransactItems)
    ? input.TransactItems.flatMap((item: unknown) =>
        item && typeof item === 'object'
          ? Object.values(item as Record<string, unknown>).flatMap((action) =>
              action && typeof action === 'object'
                ? tableOf((action as Record<string, unknown>).TableName)
                : [],
            )
          : [],
      )
    : [];
/** TagResource and the other tag calls name their table by its ARN. */
const byResourceArn = (input: Input) => tableOf(input.ResourceArn);
/** A stream ARN is its table's ARN with `/stream/<label>` after it. */
const byStreamArn = (input: Input) => tableOf(input.StreamArn);
/** A shard iterator carries its stream's ARN (streams-api.ts encodeIterator). */
const byIterator = (input: Input): ResourceRef[] => {
  if (typeof input.ShardIterator !== 'string' || input.ShardIterator.length > 2048) return [];
  try {
    const it = JSON.parse(Buffer.from(input.ShardIterator, 'base64url').toString()) as {
      arn?: unknown;
    };
    return tableOf(it?.arn);
  } catch {
    return [];
  }
};

const read = (refs: (input: Input) => ResourceRef[]): AccessRule<Input, object> => ({
  write: false,
  refs,
});
const write = (refs: (input: Input) => ResourceRef[]): AccessRule<Input, object> => ({
  write: true,
  refs,
});

export function dynamoAccessRules(
  tableExists: (name: string) => Promise<boolean>,
): Record<string, AccessRule<Input, object>> {
  return {
    CreateTable: { write: true, refs: byName, creates: { exists: tableExists } },
    DeleteTable: { write: true, refs: byName, deletes: true },
    UpdateTable: write(byName),
    UpdateTimeToLive: write(byName),
    TagResource: write(byResourceArn),
    UntagResource: write(byResourceArn),
    PutItem: write(byName),
    UpdateItem: write(byName),
    DeleteItem: write(byName),
    BatchWriteItem: write(byRequestItems),
    TransactWriteItems: write(byTransactItems),
    DescribeTable: read(byName),
    DescribeTimeToLive: read(byName),
    ListTagsOfResource: read(byResourceArn),
    GetItem: read(byName),
    Query: read(byName),
    Scan: read(byName),
    BatchGetItem: read(byRequestItems),
    TransactGetItems: read(byTransactItems),
    ListTables: {
      write: false,
      filter: {
        kind: tableKind,
        keep: (output, reaches) => {
          const out = output as { TableNames?: string[] };
          return { ...out, TableNames: (out.TableNames ?? []).filter(reaches) };
        },
      },
    },
  };
}

export const dynamoStreamsAccessRules: Record<string, AccessRule<Input, object>> = {
  DescribeStream: read(byStreamArn),
  GetShardIterator: read(byStreamArn),
  GetRecords: read(byIterator),
  ListStreams: {
    write: false,
    refs: (input) => tableOf(input.TableName),
    filter: {
      kind: tableKind,
      keep: (output, reaches) => {
        const out = output as { Streams?: { TableName: string }[] };
        return { ...out, Streams: (out.Streams ?? []).filter((s) => reaches(s.TableName)) };
      },
    },
  },
};
