/**
 * One GET over HTTP or HTTPS, trusting only the CA given for HTTPS (the
 * manager's own, from the sign's credentials) when one is given. Global fetch
 * cannot be told which CA to trust; node:https can, without another package.
 */
import http from 'node:http';
import https from 'node:https';

export interface GetAnswer {
  status: number;
  header(name: string): string | undefined;
  body: AsyncIterable<Buffer>;
  /** Drops the rest of the body and the connection. */
  cancel(): void;
}

export function httpGet(
  url: string,
  options: { headers?: Record<string, string>; ca?: string | undefined; signal: AbortSignal },
): Promise<GetAnswer> {
  const target = new URL(url);
  const client = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.get(
      target,
      {
        headers: options.headers ?? {},
        signal: options.signal,
        ...(target.protocol === 'https:' && options.ca ? { ca: options.ca } : {}),
      },
      (res) => {
        resolve({
          status: res.statusCode ?? 0,
          header: (name) => {
            const value = res.headers[name.toLowerCase()];
            return Array.isArray(value) ? value.join(', ') : value;
          },
          body: res,
          cancel: () => res.destroy(),
        });
      },
    );
    req.once('error', reject);
  });
}
