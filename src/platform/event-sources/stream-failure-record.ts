/**
 * What a stream mapping's on-failure destination (an SQS queue or SNS topic) receives for a
 * batch given up on: Lambda's invocation record with the batch's metadata, not its records
 * (`DDBStreamBatchInfo` for DynamoDB, `KinesisBatchInfo` for Kinesis), as Lambda sends it. The
 * consumer reads the records back from the stream with the sequence numbers it names.
 */
import { randomUUID } from 'node:crypto';
import { NIMBUS_ACCOUNT_ID } from '../../model/account.js';
import type { FailedBatch } from './stream-runner.js';

export function streamFailureRecord(failed: FailedBatch, region: string, now: number) {
  const { mapping, records } = failed;
  const first = records[0];
  const last = records[records.length - 1];
  const qualifier = mapping.qualifier === undefined ? '' : `:${mapping.qualifier}`;
  const batchInfo = {
    shardId: failed.shard,
    startSequenceNumber: first?.id,
    endSequenceNumber: last?.id,
    approximateArrivalOfFirstRecord: first && new Date(first.arrivedAt).toISOString(),
    approximateArrivalOfLastRecord: last && new Date(last.arrivedAt).toISOString(),
    batchSize: records.length,
    streamArn: mapping.sourceArn,
  };
  const kinesis = /^arn:aws[a-zA-Z-]*:kinesis:/.test(mapping.sourceArn);
  return {
    requestContext: {
      requestId: randomUUID(),
      functionArn: `arn:aws:lambda:${region}:${NIMBUS_ACCOUNT_ID}:function:${mapping.functionName}${qualifier}`,
      condition: failed.reason,
      approximateInvokeCount: failed.attempts,
    },
    responseContext: {
      statusCode: 200,
      executedVersion: '$LATEST',
      functionError: 'Unhandled',
    },
    version: '1.0',
    timestamp: new Date(now).toISOString(),
    ...(kinesis ? { KinesisBatchInfo: batchInfo } : { DDBStreamBatchInfo: batchInfo }),
  };
}
