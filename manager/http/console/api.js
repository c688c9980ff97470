/**
 * The console is a client of the same HTTP API scripts use. The session is an
 * HttpOnly cookie the browser sends by itself; changes carry the CSRF token.
 */
let csrfToken = '';

export function setCsrfToken(token) {
  csrfToken = token ?? '';
}

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export async function api(method, path, body) {
  const headers = {};
  if (method !== 'GET') headers['x-csrf-token'] = csrfToken;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
  });
  if (res.status === 204) return null;
  const answer = res.headers.get('content-type')?.includes('json')
    ? await res.json()
    : await res.text();
  if (!res.ok) {
    const message =
      typeof answer === 'object' && answer !== null
        ? `${answer.error}${answer.detail ? ` — ${answer.detail}` : ''}`
        : String(answer);
    throw new ApiError(res.status, message);
  }
  return answer;
}
