/**
 * `secret` with its last character changed: always a different secret (replacing the last
 * character with a fixed one left it unchanged whenever the random secret already ended in it).
 */
export function wrongSecret(secret: string): string {
  return `${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`;
}
