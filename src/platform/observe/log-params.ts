import { HttpError } from '../http/http-error.js';

/** Query parameters of the log endpoints, checked at the edge (docs/logs.md). */
export interface LogParams {
  startTime?: number;
  endTime?: number;
  filter?: string;
  limit?: number;
  after?: number;
}

export const maxLimit = 10_000;
const maxFilterLength = 1024;

/** Parses `search`, accepting only `allowed` names: a misspelt parameter is an error, not ignored. */
export function parseLogParams(search: URLSearchParams, allowed: (keyof LogParams)[]): LogParams {
  const params: LogParams = {};
  for (const name of new Set(search.keys())) {
    const values = search.getAll(name);
    if (!allowed.includes(name as keyof LogParams)) {
      throw badParam(`unknown parameter "${name}" (expected ${allowed.join(', ')})`);
    }
    if (values.length > 1) throw badParam(`parameter "${name}" is given more than once`);
    const value = values[0]!;
    switch (name as keyof LogParams) {
      case 'startTime':
      case 'endTime':
        params[name as 'startTime' | 'endTime'] = integer(name, value, 0, Number.MAX_SAFE_INTEGER);
        break;
      case 'after':
        params.after = integer(name, value, 0, Number.MAX_SAFE_INTEGER);
        break;
      case 'limit':
        params.limit = integer(name, value, 1, maxLimit);
        break;
      case 'filter':
        if (value.length > maxFilterLength) {
          throw badParam(`filter is longer than ${maxFilterLength} characters`);
        }
        params.filter = value;
        break;
    }
  }
  if (
    params.startTime !== undefined &&
    params.endTime !== undefined &&
    params.endTime < params.startTime
  ) {
    throw badParam('endTime is before startTime');
  }
  return params;
}

function integer(name: string, value: string, min: number, max: number): number {
  const n = /^\d{1,16}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    const what = name.endsWith('Time') ? 'epoch milliseconds' : `an integer from ${min} to ${max}`;
    throw badParam(`${name} must be ${what}, not "${value}"`);
  }
  return n;
}

function badParam(message: string): HttpError {
  return new HttpError(400, 'NIMBUS_LOGS_BAD_PARAM', message);
}
