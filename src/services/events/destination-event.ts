/**
 * An async invocation record sent to an EventBridge bus destination becomes the event Lambda
 * puts there: source `lambda`, detail-type `Lambda Function Invocation Result - Success` (or
 * `- Failure`), the record as the detail, the function ARN as the resource.
 * https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
 */
export function destinationEvent(recordText: string): {
  Source: string;
  DetailType: string;
  Detail: string;
  Resources: string[];
} {
  const record = JSON.parse(recordText) as {
    requestContext?: { condition?: string; functionArn?: string };
  };
  const success = record.requestContext?.condition === 'Success';
  const fn = record.requestContext?.functionArn;
  return {
    Source: 'lambda',
    DetailType: `Lambda Function Invocation Result - ${success ? 'Success' : 'Failure'}`,
    Detail: recordText,
    Resources: fn ? [fn] : [],
  };
}
