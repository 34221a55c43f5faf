/**
 * Schedule trigger errors, coded NIMBUS_SCHEDULE_*. Messages start with the offending expression
 * (or schedule) so a deploy that fails names the exact line to fix in serverless.yml.
 */
import { NimbusError } from '../../../errors/nimbus-error.js';

/** A rate(...) or cron(...) that AWS would refuse; `field` names the cron field at fault. */
export class ScheduleExpressionError extends NimbusError {
  readonly expression: string;
  readonly field: string | undefined;

  constructor(expression: string, detail: string, field?: string) {
    super(
      'NIMBUS_SCHEDULE_BAD_EXPRESSION',
      `${expression}: ${field === undefined ? '' : `${field}: `}${detail}`,
    );
    this.expression = expression;
    this.field = field;
  }
}

/** A schedule event that cannot run as written: unknown timezone, bad input, name clash. */
export class ScheduleConfigError extends NimbusError {
  constructor(message: string) {
    super('NIMBUS_SCHEDULE_BAD_CONFIG', message);
  }
}
