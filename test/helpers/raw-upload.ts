import { connect } from 'node:net';

export interface UploadOutcome {
  /** The status of the server's answer, if one arrived. */
  status: number | undefined;
  headers: Record<string, string>;
  body: string;
  /** Body bytes the client managed to hand to its socket before the server closed it. */
  written: number;
  /** Whether the server closed the connection (rather than the client giving up). */
  closedByServer: boolean;
  elapsedMs: number;
}

export interface UploadOptions {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  /** Send the body chunked (no Content-Length); otherwise only the given headers frame it. */
  chunked?: boolean;
  /** The client stops writing after this many body bytes. */
  maxBytes: number;
  /** Give up (and count it as not closed by the server) after this long. */
  timeoutMs?: number;
}

/**
 * Opens a raw socket and writes a request body as fast as the server takes it, up to
 * `maxBytes`, to see whether the server reads an upload it refused: a server that stops reading
 * and closes lets the client write no more than the socket buffers hold.
 */
export async function rawUpload(url: string, options: UploadOptions): Promise<UploadOutcome> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  socket.on('error', () => {}); // EPIPE / ECONNRESET: the server closed, which is what we watch for
  const started = Date.now();
  let response = Buffer.alloc(0);
  let closed = false;
  socket.on('data', (data: Buffer) => {
    response = Buffer.concat([response, data]);
  });
  const closing = new Promise<void>((resolve) => socket.once('close', resolve)).then(() => {
    closed = true;
  });
  await new Promise<void>((resolve) => socket.once('connect', resolve));

  const headers: Record<string, string> = { host: `${hostname}:${port}`, ...options.headers };
  if (options.chunked) headers['transfer-encoding'] = 'chunked';
  const head = `${options.method ?? 'POST'} ${options.path} HTTP/1.1\r\n${Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('')}\r\n`;
  socket.write(head);

  const chunk = Buffer.alloc(64 * 1024, 0x61);
  const frame = options.chunked
    ? Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')])
    : chunk;
  const deadline = started + (options.timeoutMs ?? 10_000);
  let written = 0;
  while (!closed && written < options.maxBytes && Date.now() < deadline) {
    if (socket.write(frame)) {
      written += chunk.length;
      continue;
    }
    written += chunk.length;
    // Backpressure: wait until the kernel takes more, the server closes, or time runs out.
    await Promise.race([
      new Promise((resolve) => socket.once('drain', resolve)),
      closing,
      new Promise((resolve) => setTimeout(resolve, Math.max(0, deadline - Date.now()))),
    ]);
  }
  await Promise.race([closing, new Promise((resolve) => setTimeout(resolve, 2_000))]);
  const closedByServer = closed;
  socket.destroy();

  const text = response.toString('latin1');
  const split = text.indexOf('\r\n\r\n');
  const lines = (split < 0 ? text : text.slice(0, split)).split('\r\n');
  const statusMatch = /^HTTP\/1\.1 (\d{3})/.exec(lines[0] ?? '');
  const parsed: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) parsed[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return {
    status: statusMatch ? Number(statusMatch[1]) : undefined,
    headers: parsed,
    body: split < 0 ? '' : text.slice(split + 4),
    written,
    closedByServer,
    elapsedMs: Date.now() - started,
  };
}

/**
 * What a client can write into a server that has stopped reading: the kernel's send and receive
 * buffers on loopback (about 4 MiB here). A server that drains lets it write everything.
 */
export const UNREAD_SLACK_BYTES = 16 * 2 ** 20;
