/**
 * The checks a rule and its targets pass whether they come from the API (PutRule, PutTargets)
 * or from `resources` (AWS::Events::Rule): EventBridge's own errors, with its messages.
 */
import { InvalidPatternError, parsePattern } from '../../platform/aws/patterns/event-pattern.js';
import { parseScheduleExpression } from '../../platform/triggers/schedule/expression.js';
import { targetKind } from './bus-delivery.js';
import { busNameOf } from './events-arns.js';
import { eventsErrors } from './events-errors.js';
import { type Input, optionalString, requiredString } from './events-input.js';
import type { EventsStore, TargetSettings } from './events-store.js';
import { isJsonPath } from './target-input.js';

export function checkSchedule(schedule: string): void {
  try {
    parseScheduleExpression(schedule);
  } catch (error) {
    throw eventsErrors.validation(
      `Parameter ScheduleExpression is not valid: ${(error as Error).message}`,
    );
  }
}

export function checkPattern(text: string) {
  try {
    return parsePattern(text);
  } catch (error) {
    if (error instanceof InvalidPatternError) throw eventsErrors.invalidPattern(error.message);
    throw error;
  }
}

export function checkTarget(raw: unknown): TargetSettings {
  if (typeof raw !== 'object' || raw === null)
    throw eventsErrors.validation('A target must be an object.');
  const t = raw as Input;
  const id = requiredString(t, 'Id');
  if (!/^[.\-_A-Za-z0-9]{1,64}$/.test(id))
    throw eventsErrors.validation(`Target Id ${id} is not valid.`);
  const arn = requiredString(t, 'Arn');
  const kind = targetKind(arn);
  if (!kind) {
    throw eventsErrors.validation(
      `Target ${id}: ${arn} is not supported: Nimbus delivers to Lambda functions, SQS queues, SNS topics and event buses.`,
    );
  }
  const given = ['Input', 'InputPath', 'InputTransformer'].filter((k) => t[k] !== undefined);
  if (kind.type === 'bus' && given.length > 0) {
    // The target bus takes the event itself: a new event of its own, matched by its rules.
    throw eventsErrors.validation(
      `Target ${id}: an event bus target takes the whole event; ${given.join(', ')} cannot be given.`,
    );
  }
  if (given.length > 1) {
    throw eventsErrors.validation(
      `Target ${id}: only one of Input, InputPath and InputTransformer may be given.`,
    );
  }
  const inputText = optionalString(t, 'Input');
  if (inputText !== undefined) {
    try {
      JSON.parse(inputText);
    } catch {
      throw eventsErrors.validation(`Target ${id}: Input is not valid JSON text.`);
    }
  }
  const inputPath = optionalString(t, 'InputPath');
  if (inputPath !== undefined && !isJsonPath(inputPath)) {
    throw eventsErrors.validation(`Target ${id}: InputPath ${inputPath} is not a valid JSON path.`);
  }
  const transformer = t.InputTransformer as Input | undefined;
  if (transformer !== undefined) {
    requiredString(transformer, 'InputTemplate');
    const paths = (transformer.InputPathsMap ?? {}) as Record<string, unknown>;
    for (const [key, path] of Object.entries(paths)) {
      if (typeof path !== 'string' || !isJsonPath(path)) {
        throw eventsErrors.validation(
          `Target ${id}: InputPathsMap ${key} is not a valid JSON path.`,
        );
      }
      if (key.startsWith('aws.')) {
        throw eventsErrors.validation(`Target ${id}: InputPathsMap keys may not start with aws.`);
      }
    }
  }
  const retry = t.RetryPolicy as Input | undefined;
  if (retry !== undefined) {
    const attempts = retry.MaximumRetryAttempts;
    const age = retry.MaximumEventAgeInSeconds;
    if (
      attempts !== undefined &&
      (!Number.isInteger(attempts) || (attempts as number) < 0 || (attempts as number) > 185)
    ) {
      throw eventsErrors.validation(
        `Target ${id}: MaximumRetryAttempts must be between 0 and 185.`,
      );
    }
    if (
      age !== undefined &&
      (!Number.isInteger(age) || (age as number) < 60 || (age as number) > 86400)
    ) {
      throw eventsErrors.validation(
        `Target ${id}: MaximumEventAgeInSeconds must be between 60 and 86400.`,
      );
    }
  }
  const dlq = (t.DeadLetterConfig as Input | undefined)?.Arn;
  if (dlq !== undefined && (typeof dlq !== 'string' || targetKind(dlq)?.type !== 'sqs')) {
    throw eventsErrors.validation(`Target ${id}: DeadLetterConfig Arn must be an SQS queue ARN.`);
  }
  return {
    Id: id,
    Arn: arn,
    ...(inputText !== undefined ? { Input: inputText } : {}),
    ...(inputPath !== undefined ? { InputPath: inputPath } : {}),
    ...(transformer !== undefined
      ? {
          InputTransformer: transformer as unknown as NonNullable<
            TargetSettings['InputTransformer']
          >,
        }
      : {}),
    ...(retry !== undefined ? { RetryPolicy: retry as TargetSettings['RetryPolicy'] } : {}),
    ...(dlq !== undefined ? { DeadLetterConfig: { Arn: dlq as string } } : {}),
  };
}

/**
 * The event buses among `targets` exist (checked when targets are put; a bus deleted later
 * makes its deliveries fail, to the target's dead-letter queue). A bus of another account is
 * unknown here, as every bus outside Nimbus's one account.
 */
export async function checkTargetBuses(
  store: Pick<EventsStore, 'findBus'>,
  targets: TargetSettings[],
): Promise<void> {
  for (const target of targets) {
    if (targetKind(target.Arn)?.type !== 'bus') continue;
    const bus = busNameOf(target.Arn);
    if (!(await store.findBus(bus))) throw eventsErrors.busNotFound(target.Arn);
  }
}
