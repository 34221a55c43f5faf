import yazl from 'yazl';

/** A small zip in memory with the given files (name -> content). */
export function makeZip(files: Record<string, string>): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const [name, content] of Object.entries(files)) {
    zip.addBuffer(Buffer.from(content), name, { mtime: new Date('1980-01-01T00:00:00Z') });
  }
  zip.end();
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c));
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on('error', reject);
  });
}

/**
 * yazl refuses `..` in names, so a hostile zip is made by writing a same-length placeholder
 * and swapping the bytes of the name in both the local header and the central directory.
 */
export async function makeHostileZip(placeholder: string, hostile: string): Promise<Buffer> {
  if (placeholder.length !== hostile.length) throw new Error('names must have the same length');
  const zip = await makeZip({ [placeholder]: 'pwned' });
  const from = Buffer.from(placeholder);
  let at = zip.indexOf(from);
  while (at !== -1) {
    Buffer.from(hostile).copy(zip, at);
    at = zip.indexOf(from, at + 1);
  }
  return zip;
}
