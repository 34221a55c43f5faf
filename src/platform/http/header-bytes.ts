/**
 * The bytes a header value arrived as. Node's HTTP parser hands the server each header byte as
 * one character (latin1), so a value's characters are its wire bytes; a string holding a
 * character past 0xFF did not come off the wire (a form field decoded already) and has none.
 */
const beyondLatin1 = /[\u0100-\uffff]/;

export function headerBytes(value: string): Buffer | undefined {
  return beyondLatin1.test(value) ? undefined : Buffer.from(value, 'latin1');
}
