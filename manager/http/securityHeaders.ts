/**
 * Security headers on every response, through @fastify/helmet. The console's
 * one inline script and style are allowed by hash, nothing else: no other
 * origin's scripts, no framing, no referrer, no MIME sniffing.
 */
import { createHash } from 'node:crypto';
import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';

function inlineHashes(page: string, tag: 'script' | 'style'): string[] {
  const hashes: string[] = [];
  const pattern = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g');
  for (const match of page.matchAll(pattern)) {
    const digest = createHash('sha256')
      .update(match[1] ?? '')
      .digest('base64');
    hashes.push(`'sha256-${digest}'`);
  }
  return hashes;
}

export async function registerSecurityHeaders(
  app: FastifyInstance,
  consolePage: string,
): Promise<void> {
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: inlineHashes(consolePage, 'script'),
        styleSrc: inlineHashes(consolePage, 'style'),
        imgSrc: ["'self'"],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    // Served over plain HTTP on a private network; a TLS proxy in front sets HSTS itself.
    strictTransportSecurity: false,
  });
}
