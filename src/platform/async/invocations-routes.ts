/**
 * Task status of asynchronous invocations under /v1 (docs/async.md), added to the control API as
 * extra routes so they share its admin-token check: list and read records, stop a task that has
 * not run yet, list and redrive dead letters.
 */
import type { IncomingMessage } from 'node:http';
import { type Clock, systemClock } from '../../model/clock.js';
import type { DeadJob, WorkQueue } from '../../queue/work-queue.js';
import type { StoreReader } from '../../store/store.js';
import type { ControlRoute } from '../control/control-api.js';
import { HttpError } from '../http/http-error.js';
import { readBody } from '../http/read-body.js';
import { sendJson } from '../http/send.js';
import {
  finalStatuses,
  type InvocationRecord,
  type InvocationRecords,
  type InvocationStatus,
} from './invocation-records.js';

export interface InvocationsRoutesDeps {
  records: Pick<InvocationRecords, 'get' | 'list' | 'update' | 'findByJob'>;
  queue: Pick<WorkQueue, 'cancel' | 'listDead' | 'redrive'>;
  /** Unknown names answer 404, as the rest of the control API. */
  store: Pick<StoreReader, 'findFunctionByName'>;
  /** Redriven events are due now: tell the worker rather than leave them to its next poll. */
  wake: () => void;
  clock?: Clock;
}

const statuses: readonly InvocationStatus[] = [
  'Enqueued',
  'Running',
  'Retrying',
  'Succeeded',
  'Failed',
  'Expired',
  'Stopped',
];
const defaultLimit = 20;
const maxLimit = 1000;
/** Redrive reads dead letters in pages of this size (each one carries its event, up to 1 MB). */
const redrivePage = 100;
/** A redrive body names at most this many jobs. */
const maxRedriveIds = 1000;

export function invocationsRoutes(deps: InvocationsRoutesDeps): ControlRoute[] {
  const clock = deps.clock ?? systemClock;

  async function knownFunction(name: string): Promise<void> {
    if (!(await deps.store.findFunctionByName(name))) {
      throw new HttpError(404, 'NIMBUS_NOT_FOUND', `function "${name}" is not deployed`);
    }
  }

  async function knownRecord(id: string): Promise<InvocationRecord> {
    const record = await deps.records.get(id);
    if (!record) throw new HttpError(404, 'NIMBUS_NOT_FOUND', `invocation "${id}" does not exist`);
    return record;
  }

  /**
   * Marks records Enqueued before their jobs are queued again, so a worker that takes a job at
   * once never has its Running overwritten by this.
   */
  async function reopen(requestIds: string[]): Promise<void> {
    const now = clock.now();
    for (const id of requestIds) {
      await deps.records.update(id, {
        status: 'Enqueued',
        destination: { type: 'dead-letter', status: 'Redriven' },
        updatedAt: now,
      });
    }
  }

  return [
    {
      method: 'GET',
      path: '/v1/functions/{name}/invocations',
      handler: async (req, res, p) => {
        const search = searchOf(req, ['status', 'limit']);
        const status = parseStatus(search.get('status'));
        const limit = parseLimit(search.get('limit'));
        await knownFunction(p.name!);
        const invocations = await deps.records.list(p.name!, {
          limit,
          ...(status ? { status } : {}),
        });
        sendJson(res, 200, { invocations });
      },
    },
    {
      method: 'GET',
      path: '/v1/invocations/{id}',
      handler: async (req, res, p) => {
        req.resume();
        sendJson(res, 200, await knownRecord(p.id!));
      },
    },
    {
      method: 'POST',
      path: '/v1/invocations/{id}/stop',
      handler: async (req, res, p) => {
        req.resume();
        const record = await knownRecord(p.id!);
        if (finalStatuses.has(record.status)) {
          throw new HttpError(
            409,
            'NIMBUS_ASYNC_FINISHED',
            `invocation ${record.id} is already ${record.status}`,
          );
        }
        // The queue refuses to cancel a job under a live lease: a worker is running it. A lease
        // that ran out (its worker died) is cancelled, so a Running record can still be stopped.
        const cancelled = record.jobId ? await deps.queue.cancel(record.jobId) : false;
        if (!cancelled) {
          const now = await knownRecord(record.id);
          if (now.status === 'Running' || finalStatuses.has(now.status)) {
            throw new HttpError(
              409,
              now.status === 'Running' ? 'NIMBUS_ASYNC_RUNNING' : 'NIMBUS_ASYNC_FINISHED',
              now.status === 'Running'
                ? `invocation ${record.id} is running: it cannot be stopped mid-attempt; ` +
                    'it finishes this attempt, and a retry it would earn can be stopped then'
                : `invocation ${record.id} is already ${now.status}`,
            );
          }
          // Enqueued or Retrying, and the job could not be removed: a worker has just leased it
          // (it reads the record before running and acks a Stopped one), or it was never queued.
        }
        await deps.records.update(record.id, { status: 'Stopped', updatedAt: clock.now() });
        sendJson(res, 200, await knownRecord(record.id));
      },
    },
    {
      method: 'GET',
      path: '/v1/functions/{name}/dead-letters',
      handler: async (req, res, p) => {
        const search = searchOf(req, ['limit']);
        const limit = parseLimit(search.get('limit'));
        await knownFunction(p.name!);
        sendJson(res, 200, { deadLetters: await deps.queue.listDead(p.name!, { limit }) });
      },
    },
    {
      method: 'POST',
      path: '/v1/functions/{name}/dead-letters/redrive',
      handler: async (req, res, p) => {
        const ids = parseRedriveBody(await readOptionalJson(req));
        const name = p.name!;
        await knownFunction(name);
        let redriven = 0;
        if (ids === undefined) {
          // Page by page, and only the ids read, so every job queued again has its record reopened.
          for (;;) {
            const dead = await deps.queue.listDead(name, { limit: redrivePage });
            if (dead.length === 0) break;
            const requestIds: string[] = [];
            for (const job of dead) {
              const id = requestIdOf(job) ?? (await deps.records.findByJob(name, job.id))?.id;
              if (id !== undefined) requestIds.push(id);
            }
            await reopen(requestIds);
            const n = await deps.queue.redrive(
              name,
              dead.map((d) => d.id),
            );
            redriven += n;
            // Nothing moved: another redrive took them; stop rather than loop.
            if (n === 0) break;
          }
        } else if (ids.length > 0) {
          // listDead has no cursor, and reading every dead event to find a few is costly: the
          // records name their jobs. One that says Failed or Expired but whose job is not dead
          // (the worker stopped between the two writes) runs again anyway, so Enqueued is true.
          const requestIds: string[] = [];
          for (const jobId of new Set(ids)) {
            const record = await deps.records.findByJob(name, jobId);
            if (record && (record.status === 'Failed' || record.status === 'Expired')) {
              requestIds.push(record.id);
            }
          }
          await reopen(requestIds);
          redriven = await deps.queue.redrive(name, ids);
        }
        if (redriven > 0) deps.wake();
        sendJson(res, 200, { redriven });
      },
    },
  ];
}

function requestIdOf(job: DeadJob): string | undefined {
  const id = (job.payload as { requestId?: unknown } | null)?.requestId;
  return typeof id === 'string' ? id : undefined;
}

function searchOf(req: IncomingMessage, allowed: string[]): URLSearchParams {
  req.resume();
  const search = new URL(req.url ?? '/', 'http://control').searchParams;
  for (const name of new Set(search.keys())) {
    if (!allowed.includes(name)) {
      throw badParam(`unknown parameter "${name}" (expected ${allowed.join(', ')})`);
    }
    if (search.getAll(name).length > 1) {
      throw badParam(`parameter "${name}" is given more than once`);
    }
  }
  return search;
}

function parseStatus(value: string | null): InvocationStatus | undefined {
  if (value === null || value === '') return undefined;
  const found = statuses.find((s) => s.toLowerCase() === value.toLowerCase());
  if (!found) throw badParam(`status must be one of ${statuses.join(', ')}, not "${value}"`);
  return found;
}

function parseLimit(value: string | null): number {
  if (value === null || value === '') return defaultLimit;
  const n = /^\d{1,5}$/.test(value) ? Number(value) : Number.NaN;
  if (!(n >= 1 && n <= maxLimit)) {
    throw badParam(`limit must be an integer from 1 to ${maxLimit}, not "${value}"`);
  }
  return n;
}

/** No body (or an empty one) means "all of them". */
async function readOptionalJson(req: IncomingMessage): Promise<unknown> {
  const body = await readBody(req, 1024 * 1024, 'redrive body');
  const text = body.toString('utf8').trim();
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HttpError(
      400,
      'NIMBUS_HTTP_BAD_JSON',
      `request body is not valid JSON: ${(error as Error).message}`,
    );
  }
}

function parseRedriveBody(body: unknown): string[] | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw badParam('the body must be a JSON object: {"ids": ["<dead letter id>", ...]} or {}');
  }
  const { ids, ...rest } = body as { ids?: unknown };
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw badParam(`unknown field "${unknown[0]}" (expected ids)`);
  if (ids === undefined) return undefined;
  if (
    !Array.isArray(ids) ||
    ids.length > maxRedriveIds ||
    !ids.every((id) => typeof id === 'string' && id !== '')
  ) {
    throw badParam(`ids must be a list of at most ${maxRedriveIds} dead letter ids (strings)`);
  }
  return ids as string[];
}

function badParam(message: string): HttpError {
  return new HttpError(400, 'NIMBUS_ASYNC_BAD_PARAM', message);
}
