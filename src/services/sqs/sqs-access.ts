/**
 * Which queue each SQS operation names, for the shared ownership check
 * (platform/auth/resource-access.ts, docs/security.md): a function's session credentials reach
 * their own stage's queues and shared ones. ReceiveMessage counts as a write: it hides the
 * messages it answers from every other consumer.
 */
import type { AccessRule, ResourceRef } from '../../platform/auth/resource-access.js';
import { AwsError } from '../../platform/aws/aws-error.js';
import { queueNameOfUrl } from './sqs-call.js';

export const queueKind = 'AWS::SQS::Queue';
type Input = Record<string, unknown>;

/** 403 AccessDenied (query) / AccessDeniedException (JSON), as SQS refuses a principal. */
export function sqsAccessDenied(): AwsError {
  return new AwsError(
    403,
    'AccessDeniedException',
    'Access to the resource is denied: the queue belongs to another service stage.',
  );
}

const byName = (input: Input): ResourceRef[] =>
  typeof input.QueueName === 'string' ? [{ kind: queueKind, name: input.QueueName }] : [];
/** A malformed URL names nothing here: the operation answers InvalidAddress itself. */
const byUrl = (input: Input): ResourceRef[] => {
  if (typeof input.QueueUrl !== 'string') return [];
  try {
    return [{ kind: queueKind, name: queueNameOfUrl(input.QueueUrl) }];
  } catch {
    return [];
  }
};

const read: AccessRule<Input, object> = { write: false, refs: byUrl };
const write: AccessRule<Input, object> = { write: true, refs: byUrl };

export function sqsAccessRules(
  queueExists: (name: string) => Promise<boolean>,
): Record<string, AccessRule<Input, object>> {
  return {
    CreateQueue: { write: true, refs: byName, creates: { exists: queueExists } },
    GetQueueUrl: { write: false, refs: byName },
    ListQueues: {
      write: false,
      filter: {
        kind: queueKind,
        keep: (output, reaches) => {
          const urls = (output as { QueueUrls?: string[] }).QueueUrls;
          if (!urls) return output;
          const kept = urls.filter((url) => reaches(queueNameOfUrl(url)));
          const { QueueUrls: _, ...rest } = output as Record<string, unknown>;
          return kept.length > 0 ? { ...rest, QueueUrls: kept } : rest;
        },
      },
    },
    DeleteQueue: { write: true, refs: byUrl, deletes: true },
    GetQueueAttributes: read,
    SetQueueAttributes: write,
    PurgeQueue: write,
    SendMessage: write,
    SendMessageBatch: write,
    ReceiveMessage: write,
    DeleteMessage: write,
    DeleteMessageBatch: write,
    ChangeMessageVisibility: write,
    ChangeMessageVisibilityBatch: write,
  };
}
