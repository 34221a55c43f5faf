/** EventBridge errors as its JSON 1.1 envelope carries them (`__type`), which `error.name` shows in the SDKs. */
import { AwsError } from '../../platform/aws/aws-error.js';

/** The error code EventBridge gives an event sent to one event bus target too many. */
export const hopDetectedCode = 'THIRD_ACCOUNT_HOP_DETECTED';

const bad = (code: string, message: string) => new AwsError(400, code, message);

export const eventsErrors = {
  validation: (message: string) => bad('ValidationException', message),
  busNotFound: (name: string) =>
    bad('ResourceNotFoundException', `Event bus ${name} does not exist.`),
  ruleNotFound: (name: string, bus: string) =>
    bad('ResourceNotFoundException', `Rule ${name} does not exist on EventBus ${bus}.`),
  busExists: (arn: string) =>
    bad('ResourceAlreadyExistsException', `Event bus ${arn} already exists.`),
  invalidPattern: (message: string) =>
    bad('InvalidEventPatternException', `Event pattern is not valid. Reason: ${message}`),
  ruleHasTargets: () => bad('ValidationException', "Rule can't be deleted since it has targets."),
  defaultBus: (action: string) => bad('ValidationException', `Cannot ${action} event bus default.`),
  busInUse: (name: string) =>
    bad('ValidationException', `Event bus ${name} still has rules; remove them first.`),
  hopDetected: (eventId: string) =>
    bad(
      hopDetectedCode,
      `Event ${eventId} was not put on the event bus: it already came through an event bus target, and an event crosses at most one.`,
    ),
  tooManyTargets: () =>
    bad('LimitExceededException', 'The requested resource exceeds the maximum number allowed.'),
};
