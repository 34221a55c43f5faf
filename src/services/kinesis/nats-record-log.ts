/**
 * Kinesis records on NATS JetStream (`--nats-url`; docs/kinesis.md#backing). One JetStream
 * stream per Kinesis stream, `<prefix>_KIN_<token>`, one subject per shard,
 * `<prefix>.kinesis.<token>.<shardId>`, where the token is the stream's creation time (base 36)
 * and its name with `.` written `~` (no Kinesis name has a `~`; JetStream names and subject
 * tokens take no `.`). The creation time keeps a re-created stream of the same name apart from
 * the old one, whose JetStream stream another node may still be deleting.
 *
 * A record's position is its JetStream stream sequence: it grows within a shard (with gaps: the
 * other shards share the sequence), and JetStream stores a stream's messages in one order, so a
 * reader never sees a later record of a shard before an earlier one, whichever node put them.
 * The partition key and the arrival time (the platform's clock) ride in headers. A record whose
 * message would pass the server's max_payload (1 MiB by default, as much as a Kinesis record) is
 * put as parts on `<shard subject>.part`, then a head message on the shard subject naming them.
 *
 * Retention is the stream's max_age (the server's clock); reads also skip records older than the
 * retention by the platform's clock, as the SQL log does. Reads take a few records by direct get
 * and more through a short-lived consumer filtered on the shard's subject.
 */
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type MsgHdrs,
  type NatsConnection,
  nanos,
  headers as natsHeaders,
  RetentionPolicy,
  StorageType,
  type StoredMsg,
} from 'nats';
import { shardIdOf } from './hash-ranges.js';
import { type NewRecord, type RecordRow, StreamGoneError } from './kinesis-store.js';
import type { KinesisRecordLog, LogStream } from './record-log.js';

export interface NatsRecordLogOptions {
  /** The platform's NATS prefix (`--nats-prefix`): letters, digits, `_`, `-`; default `nimbus`. */
  prefix?: string;
  /** Replicas of each stream (a JetStream cluster); default 1. */
  replicas?: number;
}

const hdr = {
  key: 'Nimbus-Partition-Key',
  arrivedAt: 'Nimbus-Arrived-At',
  parts: 'Nimbus-Parts',
} as const;
/** Room left in a message for its subject and headers when data is split into parts. */
const headroom = 4096;
/** A read of at most this many records goes by direct get, one request each; more: a consumer. */
const directReadMax = 16;

export class NatsRecordLog implements KinesisRecordLog {
  readonly description: string;
  readonly #nc: NatsConnection;
  readonly #js: JetStreamClient;
  readonly #jsm: JetStreamManager;
  readonly #prefix: string;
  readonly #replicas: number;
  readonly #direct_: DirectStreamAPI;

  private constructor(nc: NatsConnection, jsm: JetStreamManager, opts: NatsRecordLogOptions) {
    this.#nc = nc;
    this.#jsm = jsm;
    this.#js = nc.jetstream();
    // The manager has the direct-get API (allow_direct streams) but its interface omits it.
    this.#direct_ = (jsm as JetStreamManager & { direct: DirectStreamAPI }).direct;
    this.#prefix = opts.prefix ?? 'nimbus';
    this.#replicas = opts.replicas ?? 1;
    this.description = `NATS JetStream (a stream ${this.#prefix}_KIN_<stream> per Kinesis stream)`;
  }

  /** The connection stays the caller's to close. */
  static async open(nc: NatsConnection, opts: NatsRecordLogOptions = {}): Promise<NatsRecordLog> {
    const prefix = opts.prefix ?? 'nimbus';
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(prefix)) {
      throw new Error(`NATS prefix must be letters, digits, _ or -, got ${prefix}`);
    }
    return new NatsRecordLog(nc, await nc.jetstreamManager(), opts);
  }

  /** The JetStream stream and subjects of a Kinesis stream. */
  #names(s: Pick<LogStream, 'name' | 'createdAt'>) {
    const token = `${s.createdAt.toString(36)}-${s.name.replaceAll('.', '~')}`;
    const base = `${this.#prefix}.kinesis.${token}`;
    return {
      stream: `${this.#prefix}_KIN_${token}`,
      all: `${base}.>`,
      shard: (index: number) => `${base}.${shardIdOf(index)}`,
    };
  }

  async created(s: LogStream): Promise<void> {
    const n = this.#names(s);
    await this.#jsm.streams.add({
      name: n.stream,
      subjects: [n.all],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      max_age: nanos(s.retentionHours * 3_600_000),
      num_replicas: this.#replicas,
      allow_direct: true,
    });
  }

  async deleted(s: LogStream): Promise<void> {
    await this.#jsm.streams.delete(this.#names(s).stream).catch((error: unknown) => {
      if (!isStreamNotFound(error)) throw error;
    });
  }

  async retentionChanged(s: LogStream): Promise<void> {
    const name = this.#names(s).stream;
    const info = await this.#jsm.streams.info(name);
    await this.#jsm.streams.update(name, {
      ...info.config,
      max_age: nanos(s.retentionHours * 3_600_000),
    });
  }

  async append(s: LogStream, records: readonly NewRecord[], now: number): Promise<number[]> {
    const n = this.#names(s);
    const limit = this.#nc.info?.max_payload ?? 1024 * 1024;
    const publish = (subject: string, data: Uint8Array, h: MsgHdrs) =>
      this.#js.publish(subject, data, { headers: h, expect: { streamName: n.stream } });
    const headersOf = (r: NewRecord) => {
      const h = natsHeaders();
      h.set(hdr.key, Buffer.from(r.partitionKey, 'utf8').toString('base64'));
      h.set(hdr.arrivedAt, String(now));
      return h;
    };
    try {
      if (records.every((r) => r.data.length <= limit - headroom)) {
        // Published back to back on one connection: JetStream stores them in this order.
        const acks = records.map((r) => publish(n.shard(r.shardIndex), r.data, headersOf(r)));
        return (await Promise.all(acks)).map((a) => a.seq);
      }
      // A batch with a record too big for one message: one record after another.
      const positions: number[] = [];
      for (const r of records) {
        const h = headersOf(r);
        let data: Uint8Array = r.data;
        if (r.data.length > limit - headroom) {
          const part = limit - headroom;
          const seqs: number[] = [];
          for (let at = 0; at < r.data.length; at += part) {
            const ack = await publish(
              `${n.shard(r.shardIndex)}.part`,
              r.data.subarray(at, at + part),
              natsHeaders(),
            );
            seqs.push(ack.seq);
          }
          h.set(hdr.parts, seqs.join(','));
          data = new Uint8Array(0);
        }
        positions.push((await publish(n.shard(r.shardIndex), data, h)).seq);
      }
      return positions;
    } catch (error) {
      if (isNoStream(error)) throw new StreamGoneError(s.name);
      throw error;
    }
  }

  async read(
    s: LogStream,
    shardIndex: number,
    after: number,
    limit: number,
    since: number,
  ): Promise<RecordRow[]> {
    const n = this.#names(s);
    const subject = n.shard(shardIndex);
    const tip = await this.#last(n.stream, subject);
    if (tip === undefined || tip.seq <= after) return [];
    const rows: RecordRow[] = [];
    let from = after + 1;
    const take = async (m: StoredMsgLike) => {
      const row = await this.#row(n.stream, shardIndex, m);
      if (row && row.arrivedAt >= since) rows.push(row);
      from = m.seq + 1;
    };
    // A few records: one direct get each (a consumer costs more than a few round trips).
    const few = limit <= directReadMax || tip.seq - after <= directReadMax;
    while (few && rows.length < limit && from <= tip.seq) {
      const m = await this.#direct(n.stream, { seq: from, next_by_subj: subject });
      if (!m || m.seq > tip.seq) return rows;
      await take(m);
    }
    // More: a consumer of the shard's subject, from `from` up to the tip.
    while (rows.length < limit && from <= tip.seq) {
      const consumer = await this.#jsm.consumers.add(n.stream, {
        filter_subject: subject,
        deliver_policy: DeliverPolicy.StartSequence,
        opt_start_seq: from,
        ack_policy: AckPolicy.None,
        mem_storage: true,
        inactive_threshold: nanos(60_000),
      });
      try {
        const messages = await (await this.#js.consumers.get(n.stream, consumer.name)).fetch({
          max_messages: Math.min(limit - rows.length, 10_000),
          expires: 5_000,
        });
        let got = 0;
        for await (const m of messages) {
          got++;
          if (m.seq > tip.seq) break;
          await take({ seq: m.seq, header: m.headers ?? natsHeaders(), data: m.data });
          if (m.seq >= tip.seq || rows.length >= limit) break;
        }
        messages.stop();
        if (got === 0) break;
      } finally {
        await this.#jsm.consumers.delete(n.stream, consumer.name).catch(() => undefined);
      }
    }
    return rows;
  }

  async lastPosition(s: LogStream, shardIndex: number): Promise<number> {
    const n = this.#names(s);
    const last = await this.#last(n.stream, n.shard(shardIndex));
    if (last) return last.seq;
    // An empty shard: nothing in it up to the stream's last sequence.
    try {
      return (await this.#jsm.streams.info(n.stream)).state.last_seq;
    } catch (error) {
      if (isStreamNotFound(error)) return 0;
      throw error;
    }
  }

  /**
   * A binary search over the stream's sequences, each probe the shard's next record from a
   * sequence (arrival times grow within a shard: records are stored as they arrive).
   */
  async positionBefore(s: LogStream, shardIndex: number, at: number): Promise<number | undefined> {
    const n = this.#names(s);
    const subject = n.shard(shardIndex);
    const arrival = (m: StoredMsgLike) => Number(m.header.get(hdr.arrivedAt));
    const first = await this.#direct(n.stream, { seq: 1, next_by_subj: subject });
    if (!first) return undefined;
    if (arrival(first) >= at) return first.seq - 1;
    const last = await this.#last(n.stream, subject);
    if (!last || arrival(last) < at) return undefined;
    let answer = last.seq;
    let lo = first.seq + 1;
    let hi = last.seq - 1;
    while (lo <= hi) {
      const mid = Math.floor((lo + hi) / 2);
      const m = await this.#direct(n.stream, { seq: mid, next_by_subj: subject });
      if (!m || m.seq > hi) {
        hi = mid - 1;
      } else if (arrival(m) >= at) {
        answer = m.seq;
        hi = mid - 1;
      } else {
        lo = m.seq + 1;
      }
    }
    return answer - 1;
  }

  /**
   * Records past retention go by max_age; this reconciles JetStream with the Store. It deletes
   * the JetStream streams of Kinesis streams no longer in the Store (a node stopped between
   * deleting the row and the stream) and adds those missing for streams in the Store (made
   * before the platform had `--nats-url`, or a node stopped between the row and the stream).
   * The Store is asked after listing JetStream: a row is made before its JetStream stream and
   * deleted before it, so a stream being created is never taken for a leftover (adding it twice
   * is harmless) and a deleted one never comes back.
   */
  async trim(_now: number, streams: () => Promise<LogStream[]>): Promise<void> {
    const found = new Set<string>();
    for await (const name of this.#jsm.streams.names(`${this.#prefix}.kinesis.>`)) {
      if (name.startsWith(`${this.#prefix}_KIN_`)) found.add(name);
    }
    const live = new Map((await streams()).map((s) => [this.#names(s).stream, s]));
    for (const [name, s] of live) {
      if (!found.has(name)) await this.created(s);
    }
    for (const name of found) {
      if (live.has(name)) continue;
      await this.#jsm.streams.delete(name).catch((error: unknown) => {
        if (!isStreamNotFound(error)) throw error;
      });
    }
  }

  async #row(stream: string, shardIndex: number, m: StoredMsgLike): Promise<RecordRow | undefined> {
    const parts = m.header.get(hdr.parts);
    let data = Buffer.from(m.data);
    if (parts) {
      const chunks: Buffer[] = [];
      for (const seq of parts.split(',')) {
        const part = await this.#direct(stream, { seq: Number(seq) });
        // A part past max_age before its head: the record is past retention anyway.
        if (!part) return undefined;
        chunks.push(Buffer.from(part.data));
      }
      data = Buffer.concat(chunks);
    }
    return {
      shardIndex,
      position: m.seq,
      partitionKey: Buffer.from(m.header.get(hdr.key), 'base64').toString('utf8'),
      data,
      arrivedAt: Number(m.header.get(hdr.arrivedAt)),
    };
  }

  async #exists(stream: string): Promise<boolean> {
    try {
      await this.#jsm.streams.info(stream);
      return true;
    } catch (error) {
      if (isStreamNotFound(error)) return false;
      throw error;
    }
  }

  #last(stream: string, subject: string) {
    return this.#direct(stream, { last_by_subj: subject });
  }

  /** A direct get; undefined when there is no such message or no such stream. */
  async #direct(
    stream: string,
    query: { seq: number; next_by_subj?: string } | { last_by_subj: string },
  ): Promise<StoredMsgLike | undefined> {
    try {
      const m: StoredMsg = await this.#direct_.getMessage(stream, query);
      return { seq: m.seq, header: m.header, data: m.data };
    } catch (error) {
      if (isNoMessage(error) || isNoStream(error)) return undefined;
      // A direct get of a stream that is gone goes unanswered (server 2.9): a timeout.
      if (codeOf(error) === 'TIMEOUT' && !(await this.#exists(stream))) return undefined;
      throw error;
    }
  }
}

/** The manager's direct-get API; the package does not export its type. */
interface DirectStreamAPI {
  getMessage(
    stream: string,
    query: { seq: number; next_by_subj?: string } | { last_by_subj: string },
  ): Promise<StoredMsg>;
}

interface StoredMsgLike {
  seq: number;
  header: MsgHdrs;
  data: Uint8Array;
}

const codeOf = (error: unknown) => (error as { code?: unknown }).code;
/** A direct get or publish with no stream to answer it. */
const isNoStream = (error: unknown) => codeOf(error) === '503' || isStreamNotFound(error);
const isNoMessage = (error: unknown) => codeOf(error) === '404';
const isStreamNotFound = (error: unknown) => String(error).includes('stream not found');
