/**
 * Security headers on every response, through @fastify/helmet. The console is
 * files of our own (no inline script or style), so the policy allows this
 * origin and nothing else: no other origin's scripts, no framing, no
 * referrer, no MIME sniffing. Images may be data: URLs (the claim's QR code).
 */
import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';

export async function registerSecurityHeaders(app: FastifyInstance): Promise<void> {
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    // The certificate is usually the manager's own CA on a private name: pinning
    // browsers to HTTPS for that name is left to whoever runs it (or its proxy).
    strictTransportSecurity: false,
  });
}
