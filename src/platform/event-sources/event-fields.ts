/**
 * Reading the fields that `sqs` and `stream` events share (serverless.yml, as the Framework's
 * schema takes them): each reader records what it refuses in `problems` and answers the
 * fallback, so every problem of an event is reported at once.
 */
export type FieldProblem = { field: string; message: string };

export interface EventFields {
  /** An integer, or a string of digits (with a `-` when the event allows negative ones). */
  int<T extends number | undefined>(field: string, fallback: T): number | T;
  bool(field: string, fallback: boolean): boolean;
  /** `functionResponseType`: only ReportBatchItemFailures exists. */
  responseTypes(): string[];
  /** `filterPatterns`, each pattern as JSON text. */
  filterPatterns(): string[];
}

export function eventFields(
  config: Record<string, unknown>,
  problems: FieldProblem[],
  opts: { negativeInts?: boolean } = {},
): EventFields {
  const digits = opts.negativeInts ? /^-?\d+$/ : /^\d+$/;
  return {
    int(field, fallback) {
      const v = config[field];
      if (v === undefined || v === null) return fallback;
      const n = typeof v === 'string' && digits.test(v) ? Number(v) : v;
      if (typeof n !== 'number' || !Number.isInteger(n)) {
        problems.push({ field, message: 'must be an integer' });
        return fallback;
      }
      return n;
    },
    bool(field, fallback) {
      const v = config[field];
      if (v === undefined || v === null) return fallback;
      if (typeof v !== 'boolean') {
        problems.push({ field, message: 'must be true or false' });
        return fallback;
      }
      return v;
    },
    responseTypes() {
      const v = config.functionResponseType;
      if (v === undefined || v === null) return [];
      if (v !== 'ReportBatchItemFailures') {
        problems.push({
          field: 'functionResponseType',
          message: 'must be ReportBatchItemFailures',
        });
        return [];
      }
      return ['ReportBatchItemFailures'];
    },
    filterPatterns() {
      const v = config.filterPatterns;
      if (v === undefined || v === null) return [];
      if (!Array.isArray(v)) {
        problems.push({ field: 'filterPatterns', message: 'must be a list of patterns' });
        return [];
      }
      return v.map((p) => JSON.stringify(p));
    },
  };
}

export function isPlainObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
