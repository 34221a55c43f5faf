// A replaying load generator, as wrk is one: the requests are built (and SigV4-signed) before the
// timed window, then sent as they are over raw keep-alive `net` sockets, one in flight per socket,
// each response read only as far as its status line and content-length (the body is skipped).
// During the window the generator does a socket write and a few byte scans per call (16-18 µs of
// CPU against a sink answering at once, 20-80 µs against the servers on the busy bench machine,
// mostly system calls and event-loop wake-ups), where the lean client (aws-json-lean-client.mjs)
// signs, builds a node:http request and parses the JSON answer, 150-210 µs per call: on the
// bench's 2 cores a generator that heavy caps both systems alike, and the ratio measures it.
//
// Replay is legitimate: a SigV4 signature covers the method, path, signed headers and body, and
// the date it was made; AWS (and Nimbus) accept it for 15 minutes around that date, however often
// it is sent (nothing in SigV4 makes a request single-use). The scenario signs right before an
// operation's trials, which last well under that.
import { connect } from 'node:net';

const CRLF2 = Buffer.from('\r\n\r\n');
const READ_BUFFER = 64 * 1024;

/**
 * The bytes node:http writes for a request with `headers` (in their order) and `body` on a
 * keep-alive agent: the request line, the headers as given, then `Connection: keep-alive`.
 */
export function rawRequest(method, path, headers, body) {
  let head = `${method} ${path} HTTP/1.1\r\n`;
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
  head += 'Connection: keep-alive\r\n\r\n';
  return Buffer.concat([Buffer.from(head, 'latin1'), Buffer.from(body)]);
}

/**
 * A parser of HTTP/1.1 responses on one connection, fed its chunks in order: it calls
 * `onResponse(status, body)` once per complete response, `body` a Buffer only when `keepBody`
 * says so for that status (else undefined, its bytes skipped). Heads split across chunks and
 * several responses in one chunk are both handled. A response without content-length (chunked,
 * or until close) is not something the servers under test send for these calls: it throws.
 */
export function responseParser(onResponse, keepBody) {
  let pending; // the start of a head that has not ended yet
  let remaining = 0; // body bytes still to come
  let inBody = false;
  let status = 0;
  let chunks;
  const finish = () => {
    const body = chunks ? Buffer.concat(chunks) : undefined;
    inBody = false;
    chunks = undefined;
    onResponse(status, body);
  };
  return (chunk) => {
    let data = chunk;
    let pos = 0;
    if (pending) {
      data = Buffer.concat([pending, chunk]);
      pending = undefined;
    }
    while (pos < data.length) {
      if (inBody) {
        const take = Math.min(remaining, data.length - pos);
        if (chunks) chunks.push(Buffer.from(data.subarray(pos, pos + take)));
        remaining -= take;
        pos += take;
        if (remaining === 0) finish();
        continue;
      }
      const end = data.indexOf(CRLF2, pos);
      if (end < 0) {
        pending = Buffer.from(data.subarray(pos));
        return;
      }
      // `HTTP/1.1 200 OK`: the code is bytes 9-11.
      status = (data[pos + 9] - 48) * 100 + (data[pos + 10] - 48) * 10 + (data[pos + 11] - 48);
      const head = data.toString('latin1', pos, end);
      const length = /\r\ncontent-length:[ \t]*(\d+)/i.exec(head);
      if (!length) throw new Error(`a response without content-length: ${head}`);
      remaining = Number(length[1]);
      pos = end + 4;
      inBody = true;
      chunks = keepBody(status) ? [] : undefined;
      if (remaining === 0) finish();
    }
  };
}

/** Why a non-200 answer failed: the AWS JSON `__type`'s last part, else `HTTP <status>`. */
function errorName(status, body) {
  try {
    const type = JSON.parse(body?.toString('utf8') || '{}').__type;
    if (type) return String(type).split('#').pop();
  } catch {}
  return `HTTP ${status}`;
}

/**
 * Sends requests over `width` sockets to `url`, one in flight per socket, until `next()` answers
 * -1: `next()` gives the index in `requests` of the next one to send. Resolves to the calls
 * answered, each answer's latency (ms), the non-200 answers and socket failures counted by name
 * (and the indexes of those requests, `failed`), and, for the indexes `keep(index)` selects, the
 * 200 answers' bodies (`bodies.get(index)`).
 * A socket closed under a call counts that call as an error and is opened again. Each socket
 * keeps one parser and one set of listeners: per call there is only the write and the scan.
 */
export async function replay(url, requests, width, next, keep = () => false) {
  const { hostname: host, port } = new URL(url);
  const latencies = [];
  const errorNames = {};
  const bodies = new Map();
  const failed = new Set();
  let errors = 0;
  const fail = (name, index) => {
    errors++;
    errorNames[name] = (errorNames[name] ?? 0) + 1;
    failed.add(index);
  };
  const lane = () =>
    new Promise((resolve, reject) => {
      let socket;
      let index = -1; // the request in flight, -1 when none
      let keepThis = false;
      let t0 = 0;
      let finished = false;
      const send = () => {
        index = next();
        if (index < 0) {
          finished = true;
          socket.destroy();
          resolve();
          return;
        }
        keepThis = keep(index);
        t0 = performance.now();
        socket.write(requests[index]);
      };
      const onResponse = (status, body) => {
        if (status === 200) {
          latencies.push(performance.now() - t0);
          if (keepThis) bodies.set(index, body);
        } else fail(errorName(status, body), index);
        send();
      };
      const keepBody = (status) => status !== 200 || keepThis;
      const dial = () => {
        let connected = false;
        const parse = responseParser(onResponse, keepBody);
        // `onread` reads into one buffer per socket instead of a new Buffer per read.
        socket = connect({
          port,
          host,
          noDelay: true,
          onread: {
            buffer: Buffer.allocUnsafe(READ_BUFFER),
            callback: (nread, buffer) => {
              try {
                parse(buffer.subarray(0, nread));
              } catch (error) {
                finished = true;
                socket.destroy();
                reject(error);
              }
            },
          },
        });
        socket.on('connect', () => {
          connected = true;
          send();
        });
        socket.on('error', (error) => {
          // Refused before any call: the server is not there, trying again would spin.
          if (!connected && !finished) {
            finished = true;
            reject(error);
          }
        });
        socket.on('close', () => {
          if (finished || !connected) return;
          fail('socket closed', index);
          dial();
        });
      };
      dial();
    });
  await Promise.all(Array.from({ length: width }, lane));
  return { calls: latencies.length, latencies, errors, errorNames, failed, bodies };
}

/** `next` for a timed window: the requests in turn (round and round) until `seconds` are up. */
export function forSeconds(count, seconds) {
  const until = performance.now() + seconds * 1000;
  let i = 0;
  return () => (performance.now() < until ? i++ % count : -1);
}

/** `next` for a list of indexes, each sent once. */
export function eachOf(indexes) {
  let i = 0;
  return () => (i < indexes.length ? indexes[i++] : -1);
}
