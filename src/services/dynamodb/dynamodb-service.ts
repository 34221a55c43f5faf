/**
 * The DynamoDB service behind the front door (credential scope `dynamodb`): AWS JSON 1.0 with
 * `X-Amz-Target: DynamoDB_20120810.<Operation>`, verified with SigV4 over the whole body.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CallerScopes } from '../../platform/auth/caller-scopes.js';
import type { RequestVerifier } from '../../platform/auth/request-verifier.js';
import {
  type AccessRule,
  guardedCall,
  type OwnerLookup,
  type ResourceGuard,
} from '../../platform/auth/resource-access.js';
import {
  type AwsJsonOperation,
  createAwsJsonHandler,
} from '../../platform/aws/protocols/aws-json.js';
import { batchGetItem, batchWriteItem } from './batch-operations.js';
import {
  dynamoAccessDenied,
  dynamoAccessRules,
  dynamoStreamsAccessRules,
} from './dynamodb-access.js';
import type { DynamoDeps, Input } from './dynamodb-call.js';
import { deleteItem, getItem, putItem, updateItem } from './item-operations.js';
import { query, scan } from './query-scan.js';
import type { DynamoStreamReader } from './stream-reader.js';
import {
  describeStream,
  getRecords,
  getShardIterator,
  listStreams,
  type StreamsApiDeps,
} from './streams-api.js';
import {
  createTable,
  deleteTable,
  describeTable,
  listTables,
  updateTable,
} from './table-operations.js';
import { listTagsOfResource, tagResource, untagResource } from './tags.js';
import { describeTimeToLive, updateTimeToLive } from './time-to-live.js';
import { transactGetItems, transactWriteItems } from './transactions.js';

export interface DynamoServiceOptions extends DynamoDeps {
  verify: RequestVerifier;
  /** The stream read port, for the DynamoDB Streams API on the same path. */
  streams: DynamoStreamReader;
  /** The shared scope lookup and owner records: a stage's credentials reach its own tables. */
  scopeOf?: CallerScopes;
  owners?: OwnerLookup;
  onError?: (error: unknown) => void;
}

/** DynamoDB refuses request bodies past 16 MB. */
const maxBodyBytes = 16 * 1024 * 1024;

export function createDynamoService(opts: DynamoServiceOptions) {
  const guard: ResourceGuard | undefined = opts.owners && {
    owners: opts.owners,
    denied: dynamoAccessDenied,
  };
  const rules = dynamoAccessRules(async (name) => (await opts.store.findTable(name)) !== undefined);
  const guarded =
    <D>(
      deps: D,
      table: Record<string, AccessRule<Input, object>>,
      run: (deps: D, input: Input) => Promise<object>,
    ): AwsJsonOperation =>
    (input, ctx) =>
      guard
        ? guardedCall(guard, ctx.scope, table[ctx.operation], input, () => run(deps, input))
        : run(deps, input);
  const op = (run: (deps: DynamoDeps, input: Input) => Promise<object>) =>
    guarded(opts, rules, run);
  const handler = createAwsJsonHandler({
    version: '1.0',
    targetPrefix: 'DynamoDB_20120810',
    errorNamespace: 'com.amazonaws.dynamodb.v20120810',
    crc32: true,
    coralNamespaces: true,
    maxBodyBytes,
    verify: opts.verify,
    ...(opts.scopeOf ? { scopeOf: opts.scopeOf } : {}),
    onError: opts.onError,
    operations: {
      CreateTable: op(createTable),
      DescribeTable: op(describeTable),
      ListTables: op(listTables),
      UpdateTable: op(updateTable),
      DeleteTable: op(deleteTable),
      UpdateTimeToLive: op(updateTimeToLive),
      DescribeTimeToLive: op(describeTimeToLive),
      TagResource: op(tagResource),
      UntagResource: op(untagResource),
      ListTagsOfResource: op(listTagsOfResource),
      PutItem: op(putItem),
      GetItem: op(getItem),
      UpdateItem: op(updateItem),
      DeleteItem: op(deleteItem),
      Query: op(query),
      Scan: op(scan),
      BatchGetItem: op(batchGetItem),
      BatchWriteItem: op(batchWriteItem),
      TransactWriteItems: op(transactWriteItems),
      TransactGetItems: op(transactGetItems),
    },
  });
  const streamsDeps: StreamsApiDeps = {
    reader: opts.streams,
    clock: opts.clock,
    findTable: (name) => opts.store.findTable(name),
  };
  const streamsOp = (run: (deps: StreamsApiDeps, input: Input) => Promise<object>) =>
    guarded(streamsDeps, dynamoStreamsAccessRules, run);
  // DynamoDB Streams signs for `dynamodb` too: the target's prefix tells the two APIs apart.
  const streamsHandler = createAwsJsonHandler({
    version: '1.0',
    targetPrefix: 'DynamoDBStreams_20120810',
    errorNamespace: 'com.amazonaws.dynamodb.v20120810',
    crc32: false,
    coralNamespaces: true,
    maxBodyBytes,
    verify: opts.verify,
    ...(opts.scopeOf ? { scopeOf: opts.scopeOf } : {}),
    onError: opts.onError,
    operations: {
      ListStreams: streamsOp(listStreams),
      DescribeStream: streamsOp(describeStream),
      GetShardIterator: streamsOp(getShardIterator),
      GetRecords: streamsOp(getRecords),
    },
  });
  return (req: IncomingMessage, res: ServerResponse): Promise<void> =>
    String(req.headers['x-amz-target'] ?? '').startsWith('DynamoDBStreams_20120810.')
      ? streamsHandler(req, res)
      : handler(req, res);
}
