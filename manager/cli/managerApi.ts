/**
 * A client of the manager's HTTP API for scripts (the sign CLI) and tests:
 * HTTPS that trusts only the given CA, and an API token as bearer.
 */
import { Agent, fetch, type Response } from 'undici';

export interface ManagerApiOptions {
  /** The CA the manager's certificate chains to; without it the system's trust store is used. */
  caPem?: string | undefined;
  token?: string | undefined;
  /** Extra headers on every request (a session cookie and CSRF token, say). */
  headers?: Record<string, string>;
}

export class ManagerApi {
  private readonly agent: Agent;

  constructor(
    readonly baseUrl: string,
    private readonly options: ManagerApiOptions = {},
    agent?: Agent,
  ) {
    this.agent = agent ?? new Agent({ connect: options.caPem ? { ca: options.caPem } : {} });
  }

  /** The same connection pool with another token (undefined: no credentials at all). */
  as(token: string | undefined, headers: Record<string, string> = {}): ManagerApi {
    return new ManagerApi(this.baseUrl, { ...this.options, token, headers }, this.agent);
  }

  async request(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Response> {
    const all: Record<string, string> = { ...this.options.headers, ...headers };
    if (this.options.token !== undefined) all.authorization = `Bearer ${this.options.token}`;
    let payload: string | Buffer | ReadableStream<Uint8Array> | undefined;
    if (body instanceof ReadableStream) {
      // Sent as it is read (chunked), e.g. an upload with no length known up front.
      payload = body as ReadableStream<Uint8Array>;
      all['content-type'] ??= 'application/zip';
    } else if (Buffer.isBuffer(body)) {
      payload = body;
      all['content-type'] ??= 'application/zip';
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
      all['content-type'] ??= 'application/json';
    }
    return fetch(new URL(path, this.baseUrl), {
      method,
      headers: all,
      body: payload ?? null,
      dispatcher: this.agent,
      ...(payload instanceof ReadableStream ? { duplex: 'half' as const } : {}),
    });
  }

  get(path: string): Promise<Response> {
    return this.request('GET', path);
  }

  post(path: string, body?: unknown): Promise<Response> {
    return this.request('POST', path, body ?? {});
  }

  patch(path: string, body: unknown): Promise<Response> {
    return this.request('PATCH', path, body);
  }

  delete(path: string): Promise<Response> {
    return this.request('DELETE', path);
  }

  /** GET and parse JSON, failing with the status and body when it is not 2xx. */
  async json<T>(path: string): Promise<T> {
    const res = await this.get(path);
    if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  /** Closes the connection pool (shared with every as() copy); a second close does nothing. */
  async close(): Promise<void> {
    if (this.agent.closed || this.agent.destroyed) return;
    await this.agent.close();
  }
}
