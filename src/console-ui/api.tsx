/** The console's one way to the platform: /console/api/..., with the session's CSRF header on writes. */

let csrfToken = '';
/** Signed in with a read-only access key: pages leave out what would change anything. */
let readOnly = false;
export const isReadOnly = (): boolean => readOnly;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Called when any request finds the session gone: the app shows the sign-in form again. */
let onSignedOut: () => void = () => {};
export function whenSignedOut(callback: () => void): void {
  onSignedOut = callback;
}

export function setCsrfToken(token: string): void {
  csrfToken = token;
}

export interface RawAnswer {
  status: number;
  headers: Headers;
  text: string;
}

/** A request through the proxy; `path` is the platform path (`/v1/services`). */
export async function request(
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<RawAnswer> {
  const init: RequestInit = {
    method,
    credentials: 'same-origin',
    headers: {
      ...headers,
      ...(method === 'GET' ? {} : { 'x-nimbus-csrf': csrfToken }),
      ...(body === undefined
        ? {}
        : { 'content-type': headers['content-type'] ?? 'application/json' }),
    },
  };
  if (body !== undefined) init.body = body;
  const res = await fetch(`api${path}`, init);
  const text = await res.text();
  if (res.status === 401) {
    onSignedOut();
    throw new ApiError(401, 'NIMBUS_AUTH_REQUIRED', 'signed out');
  }
  return { status: res.status, headers: res.headers, text };
}

/** JSON in, JSON out; a platform error becomes an ApiError with its code and message. */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const answer = await request(method, path, body === undefined ? undefined : JSON.stringify(body));
  let parsed: unknown;
  try {
    parsed = answer.text === '' ? undefined : JSON.parse(answer.text);
  } catch {
    parsed = answer.text;
  }
  if (answer.status >= 400) {
    const error = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new ApiError(answer.status, error?.code ?? 'ERROR', error?.message ?? answer.text);
  }
  return parsed as T;
}

export const get = <T,>(path: string) => api<T>('GET', path);

export type Credentials = { token: string } | { accessKeyId: string; secretAccessKey: string };

interface SessionView {
  csrfToken: string;
  readOnly?: boolean;
}

function adopt(view: SessionView): void {
  csrfToken = view.csrfToken;
  readOnly = view.readOnly === true;
}

/** Undefined when signed in, else why not (the platform's message). */
export async function signIn(credentials: Credentials): Promise<string | undefined> {
  const res = await fetch('api/session', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(credentials),
  });
  if (!res.ok) {
    const body = (await res.json().catch(() => undefined)) as
      | { error?: { message?: string } }
      | undefined;
    return body?.error?.message ?? 'Those credentials were not accepted.';
  }
  adopt((await res.json()) as SessionView);
  return undefined;
}

export async function currentSession(): Promise<boolean> {
  const res = await fetch('api/session', { credentials: 'same-origin' });
  if (!res.ok) return false;
  adopt((await res.json()) as SessionView);
  return true;
}

export async function signOut(): Promise<void> {
  await fetch('api/session', {
    method: 'DELETE',
    credentials: 'same-origin',
    headers: { 'x-nimbus-csrf': csrfToken },
  });
  csrfToken = '';
  readOnly = false;
}

export const enc = encodeURIComponent;
