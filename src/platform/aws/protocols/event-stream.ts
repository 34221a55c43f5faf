/**
 * The AWS event stream binary framing (`application/vnd.amazon.eventstream`), encode side: what
 * InvokeWithResponseStream answers with, and what the SDKs' event-stream decoders read. A message
 * is: total length (4 bytes), headers length (4), CRC32 of those 8 bytes (4), the headers, the
 * payload, CRC32 of everything before it (4). Every header here is a string (type 7): name length
 * (1), name, 7, value length (2), value.
 */
import { crc32 } from 'node:zlib';

export const EVENT_STREAM_CONTENT_TYPE = 'application/vnd.amazon.eventstream';

/** One `:message-type: event` message of the given event type. */
export function encodeEvent(eventType: string, contentType: string, payload: Buffer): Buffer {
  return encodeMessage(
    [
      [':event-type', eventType],
      [':content-type', contentType],
      [':message-type', 'event'],
    ],
    payload,
  );
}

export function encodeMessage(headers: [string, string][], payload: Buffer): Buffer {
  const parts: Buffer[] = [];
  let headersLength = 0;
  for (const [name, value] of headers) {
    const nameBytes = Buffer.from(name);
    const valueBytes = Buffer.from(value);
    const header = Buffer.alloc(1 + nameBytes.length + 1 + 2 + valueBytes.length);
    header.writeUInt8(nameBytes.length, 0);
    nameBytes.copy(header, 1);
    header.writeUInt8(7, 1 + nameBytes.length);
    header.writeUInt16BE(valueBytes.length, 2 + nameBytes.length);
    valueBytes.copy(header, 4 + nameBytes.length);
    parts.push(header);
    headersLength += header.length;
  }
  const total = 12 + headersLength + payload.length + 4;
  const message = Buffer.alloc(total);
  message.writeUInt32BE(total, 0);
  message.writeUInt32BE(headersLength, 4);
  message.writeUInt32BE(crc32(message.subarray(0, 8)), 8);
  let at = 12;
  for (const part of parts) {
    part.copy(message, at);
    at += part.length;
  }
  payload.copy(message, at);
  at += payload.length;
  message.writeUInt32BE(crc32(message.subarray(0, at)), at);
  return message;
}
