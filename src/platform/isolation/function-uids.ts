import { randomInt } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import type { Kysely } from 'kysely';
import type { Clock } from '../../model/clock.js';
import type { Database } from '../../store/schema.js';
import type { RunAs } from '../pool/runtime-interpreters.js';
import { IsolationError } from './isolation-error.js';
import type { UidRange } from './uid-range.js';

/**
 * One uid per service stage, so the kernel keeps each stage's processes, code and temp files
 * apart from every other's. The group id is the same number: a group of one, which lets the
 * stage's code be readable by it alone while root keeps owning (and so write-protecting) it.
 *
 * A new stage gets a random uid of the range that is free here (no row), named by no account in
 * /etc/passwd and running no process: two platforms on one host given the same range (tests,
 * a careless operator) then rarely meet. The row is what makes it stable across restarts.
 */
export class FunctionUids {
  readonly #db: Kysely<Database>;
  readonly #range: UidRange;
  readonly #clock: Clock;
  readonly #known = new Map<string, Promise<RunAs>>();

  constructor(opts: { db: Kysely<Database>; range: UidRange; clock: Clock }) {
    this.#db = opts.db;
    this.#range = opts.range;
    this.#clock = opts.clock;
  }

  /** The uid of a service stage, allocated on first use. */
  of(service: string, stage: string): Promise<RunAs> {
    const key = `${service}\u0000${stage}`;
    let known = this.#known.get(key);
    if (!known) {
      known = this.#lookupOrAllocate(service, stage);
      this.#known.set(key, known);
      known.catch(() => this.#known.delete(key));
    }
    return known;
  }

  /** Every uid this platform has given a stage. */
  async allocated(): Promise<number[]> {
    const rows = await this.#db.selectFrom('function_uids').select('uid').execute();
    return rows.map((r) => Number(r.uid));
  }

  async #lookupOrAllocate(service: string, stage: string): Promise<RunAs> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const row = await this.#db
        .selectFrom('function_uids')
        .select('uid')
        .where('service', '=', service)
        .where('stage', '=', stage)
        .executeTakeFirst();
      if (row) return { uid: Number(row.uid), gid: Number(row.uid) };
      const uid = await this.#pickFree();
      try {
        await this.#db
          .insertInto('function_uids')
          .values({
            service,
            stage,
            uid,
            created_at: new Date(this.#clock.now()).toISOString(),
          })
          .execute();
        return { uid, gid: uid };
      } catch {
        // Another node took this stage or this uid at the same moment: look again.
      }
    }
    throw new IsolationError(`could not allocate a function uid for ${service}/${stage}`);
  }

  async #pickFree(): Promise<number> {
    const taken = new Set(
      (await this.#db.selectFrom('function_uids').select('uid').execute()).map((r) =>
        Number(r.uid),
      ),
    );
    for (const uid of uidsInUseOnHost()) taken.add(uid);
    const size = this.#range.last - this.#range.first + 1;
    if (taken.size >= size) this.#exhausted();
    // Random probes first (cheap while the range is sparse), then a scan, which is exhaustive.
    for (let i = 0; i < 64; i++) {
      const uid = this.#range.first + randomInt(size);
      if (!taken.has(uid)) return uid;
    }
    for (let uid = this.#range.first; uid <= this.#range.last; uid++) {
      if (!taken.has(uid)) return uid;
    }
    return this.#exhausted();
  }

  #exhausted(): never {
    throw new IsolationError(
      `every uid of the function uid range ${this.#range.first}-${this.#range.last} is taken: ` +
        'widen it with --function-uids',
    );
  }
}

/** Uids with an account, and uids some process runs as right now. */
function uidsInUseOnHost(): Set<number> {
  const used = new Set<number>();
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const uid = Number(line.split(':')[2]);
      if (Number.isInteger(uid)) used.add(uid);
    }
  } catch {
    // No passwd file (a minimal container): processes are all there is to go by.
  }
  for (const uid of processUids().values()) used.add(uid);
  return used;
}

/** pid -> real uid of every process visible in /proc. */
export function processUids(): Map<number, number> {
  const out = new Map<number, number>();
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const status = readStatus(Number(name));
    if (status) out.set(Number(name), status.uid);
  }
  return out;
}

/** Real uid and state of one process from /proc/<pid>/status, or undefined once it is gone. */
export function readStatus(
  pid: number,
): { uid: number; uids: number[]; state: string } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const uids = /^Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(text);
    const state = /^State:\s+(\S)/m.exec(text)?.[1] ?? '?';
    if (!uids) return undefined;
    const all = uids.slice(1, 5).map(Number);
    return { uid: all[0]!, uids: all, state };
  } catch {
    return undefined;
  }
}
