/**
 * User metadata values past US-ASCII, as S3 treats them: an incoming value is decoded (RFC 2047
 * encoded-words, or the UTF-8 bytes an SDK put on the wire) and stored as text; a value that is
 * not plain US-ASCII goes back RFC 2047-encoded (`=?UTF-8?B?...?=`), mail-safe, as S3 returns it.
 * A value's bytes are its characters as they came off the wire (platform/http/header-bytes.ts).
 */
import { headerBytes } from '../../platform/http/header-bytes.js';

const asciiOnly = /^[\x20-\x7e\t]*$/;
const encodedWord = /=\?([^?]+)\?([bBqQ])\?([^?]*)\?=/g;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A metadata value as it arrived in a header, as the text S3 stores. */
export function decodeMetadataValue(wire: string): string {
  if (asciiOnly.test(wire)) return wire.includes('=?') ? decodeEncodedWords(wire) : wire;
  // Past 0xFF it did not come off the wire (a form field decoded already): text as it is.
  const bytes = headerBytes(wire);
  if (!bytes) return wire;
  try {
    return utf8.decode(bytes);
  } catch {
    // Not UTF-8: latin-1 bytes (what Python's http.client sends), each its own character.
    return wire;
  }
}

/** A stored value as a response header: as is when plain US-ASCII, else one RFC 2047 word. */
export function encodeMetadataValue(text: string): string {
  if (asciiOnly.test(text)) return text;
  return `=?UTF-8?B?${Buffer.from(text, 'utf8').toString('base64')}?=`;
}

/** RFC 2047 encoded-words in UTF-8 or ISO-8859-1 (B or Q); any other charset stays as written. */
function decodeEncodedWords(value: string): string {
  // Whitespace between two adjacent encoded-words is not part of the text (RFC 2047 §6.2).
  const joined = value.replace(/\?=\s+=\?/g, '?==?');
  return joined.replace(encodedWord, (word, charset: string, encoding: string, data: string) => {
    const name = charset.toLowerCase();
    if (name !== 'utf-8' && name !== 'iso-8859-1') return word;
    const bytes =
      encoding.toLowerCase() === 'b'
        ? Buffer.from(data, 'base64')
        : Buffer.from(
            data
              .replace(/_/g, ' ')
              .replace(/=([0-9a-fA-F]{2})/g, (_, hex: string) =>
                String.fromCharCode(Number.parseInt(hex, 16)),
              ),
            'latin1',
          );
    if (name === 'iso-8859-1') return bytes.toString('latin1');
    try {
      return utf8.decode(bytes);
    } catch {
      return word;
    }
  });
}
