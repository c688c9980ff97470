/**
 * DNS rebinding: a web page on an attacker's domain that resolves to this
 * machine could drive the API from an operator's browser. The browser still
 * sends the attacker's name as Host, so only known names are answered.
 */
import os from 'node:os';
import type { FastifyInstance } from 'fastify';

/** The listen host and the loopback names; every name of the machine when listening on all interfaces. */
export function defaultAllowedHosts(listenHost: string): string[] {
  const hosts = new Set(['localhost', '127.0.0.1', '::1', listenHost.toLowerCase()]);
  if (listenHost === '0.0.0.0' || listenHost === '::') hosts.add(os.hostname().toLowerCase());
  return [...hosts];
}

/** The host name of a Host header, without port or IPv6 brackets. */
export function hostName(header: string): string {
  const value = header.trim().toLowerCase();
  if (value.startsWith('[')) return value.slice(1, value.indexOf(']'));
  const colon = value.lastIndexOf(':');
  return colon === -1 ? value : value.slice(0, colon);
}

export function registerHostCheck(app: FastifyInstance, allowed: readonly string[]): void {
  const names = new Set(allowed.map((h) => h.toLowerCase()));
  app.addHook('onRequest', async (request, reply) => {
    const host = request.headers.host;
    if (host !== undefined && names.has(hostName(host))) return;
    return reply
      .code(403)
      .header('connection', 'close')
      .send({
        error: `host ${host ?? '(none)'} is not served here; allowed: ${[...names].join(', ')}`,
      });
  });
}
