/**
 * A function's dead-letter target (`onError`, Lambda's DeadLetterConfig): an SQS queue or an
 * SNS topic, by ARN.
 */
const deadLetterArn = /^arn:aws[a-zA-Z-]*:(sqs|sns):[^:]*:[^:]*:[^:]+$/;

/** Which service a dead-letter ARN names, or undefined when it names neither. */
export function deadLetterVia(arn: string): 'sqs' | 'sns' | undefined {
  return deadLetterArn.exec(arn)?.[1] as 'sqs' | 'sns' | undefined;
}

export function isDeadLetterArn(arn: string): boolean {
  return deadLetterVia(arn) !== undefined;
}
