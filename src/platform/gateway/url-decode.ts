/**
 * Percent-decodes a path segment; a malformed escape leaves the text as sent rather than
 * failing the request. Cheap when there is nothing to decode (the common case).
 */
export function decodePathPart(text: string): string {
  if (!text.includes('%')) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Query keys and values: `+` is a space (form encoding), then percent-decoding. */
export function decodeQueryPart(text: string): string {
  const spaced = text.includes('+') ? text.replaceAll('+', ' ') : text;
  return decodePathPart(spaced);
}
