/**
 * A streaming reader of multipart/form-data (RFC 7578) for S3 browser form uploads: the fields
 * before the `file` field are read into memory (bounded), the file's bytes are handed on as a
 * stream and never held whole, and whatever follows the file is ignored, as S3 does.
 */
import { NimbusError } from '../../errors/nimbus-error.js';

export interface FormFile {
  filename: string;
  contentType?: string;
  /** The file's bytes; must be consumed before anything else is read from the body. */
  stream: AsyncGenerator<Buffer>;
}

export interface UploadForm {
  /** Field names lower-cased (S3 form field names are case-insensitive), values as sent. */
  fields: Map<string, string>;
  file?: FormFile;
}

/** The form broke the multipart framing or a limit; S3 answers it as a malformed POST. */
export class FormSyntaxError extends NimbusError {
  constructor(message: string) {
    super('NIMBUS_S3_MALFORMED_FORM', message);
  }
}

/** S3 limits the fields of a POST (all but the file) to 20 KB. */
const maxFieldBytes = 20 * 1024;
const maxHeaderBytes = 8 * 1024;

/** The boundary of a multipart/form-data Content-Type, if it is one. */
export function formBoundary(contentType: string | undefined): string | undefined {
  if (!contentType || !/^multipart\/form-data\s*;/i.test(contentType)) return undefined;
  const m = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const boundary = m?.[1] ?? m?.[2];
  return boundary && boundary.length <= 70 ? boundary : undefined;
}

export async function readUploadForm(
  source: AsyncIterable<Buffer>,
  boundary: string,
): Promise<UploadForm> {
  const reader = new Reader(source[Symbol.asyncIterator]());
  // A leading CRLF lets the first delimiter be found like every later one.
  reader.buf = Buffer.from('\r\n');
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  const fields = new Map<string, string>();
  let fieldBytes = 0;
  await reader.skipPast(delimiter, maxFieldBytes);
  for (;;) {
    await reader.need(2);
    const after = reader.buf.subarray(0, 2).toString('latin1');
    if (after === '--') return { fields };
    if (after !== '\r\n') throw new FormSyntaxError('expected CRLF after a boundary');
    reader.buf = reader.buf.subarray(2);
    const head = parsePartHeaders(await reader.readUntil(Buffer.from('\r\n\r\n'), maxHeaderBytes));
    if (head.name.toLowerCase() === 'file') {
      const file: FormFile = {
        filename: head.filename ?? '',
        stream: reader.streamUntil(delimiter),
      };
      if (head.contentType !== undefined) file.contentType = head.contentType;
      return { fields, file };
    }
    const value = await reader.readUntil(delimiter, maxFieldBytes - fieldBytes);
    fieldBytes += value.length;
    fields.set(head.name.toLowerCase(), value.toString('utf8'));
  }
}

function parsePartHeaders(raw: Buffer): { name: string; filename?: string; contentType?: string } {
  let name: string | undefined;
  let filename: string | undefined;
  let contentType: string | undefined;
  for (const line of raw.toString('utf8').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const header = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (header === 'content-type') contentType = value;
    if (header !== 'content-disposition') continue;
    name = param(value, 'name');
    filename = param(value, 'filename');
  }
  if (name === undefined) throw new FormSyntaxError('a form part has no name');
  return {
    name,
    ...(filename === undefined ? {} : { filename }),
    ...(contentType === undefined ? {} : { contentType }),
  };
}

function param(disposition: string, name: string): string | undefined {
  // Browsers quote without backslash escapes (a `"` is sent as %22), so a Windows path's
  // backslashes are the path's own.
  const m = new RegExp(`;\\s*${name}=(?:"([^"]*)"|([^;\\s]*))`, 'i').exec(disposition);
  if (!m) return undefined;
  return m[1] ?? m[2];
}

class Reader {
  buf: Buffer = Buffer.alloc(0);
  readonly #source: AsyncIterator<Buffer>;

  constructor(source: AsyncIterator<Buffer>) {
    this.#source = source;
  }

  async #fill(): Promise<void> {
    const next = await this.#source.next();
    if (next.done) throw new FormSyntaxError('the form ended early');
    this.buf = this.buf.length === 0 ? next.value : Buffer.concat([this.buf, next.value]);
  }

  async need(n: number): Promise<void> {
    while (this.buf.length < n) await this.#fill();
  }

  /** The bytes before `marker` (which is consumed), at most `max` of them. */
  async readUntil(marker: Buffer, max: number): Promise<Buffer> {
    for (;;) {
      const at = this.buf.indexOf(marker);
      if (at >= 0) {
        if (at > max) break;
        const before = this.buf.subarray(0, at);
        this.buf = this.buf.subarray(at + marker.length);
        return before;
      }
      if (this.buf.length > max + marker.length) break;
      await this.#fill();
    }
    throw new FormSyntaxError('a form field is too large');
  }

  async skipPast(marker: Buffer, max: number): Promise<void> {
    await this.readUntil(marker, max);
  }

  /** Yields the bytes before `marker`, holding back only what could be the marker's start. */
  async *streamUntil(marker: Buffer): AsyncGenerator<Buffer> {
    for (;;) {
      const at = this.buf.indexOf(marker);
      if (at >= 0) {
        if (at > 0) yield this.buf.subarray(0, at);
        this.buf = this.buf.subarray(at + marker.length);
        return;
      }
      const safe = this.buf.length - (marker.length - 1);
      if (safe > 0) {
        const out = this.buf.subarray(0, safe);
        this.buf = this.buf.subarray(safe);
        yield out;
      }
      await this.#fill();
    }
  }
}
