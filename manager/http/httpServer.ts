import type { AddressInfo } from 'node:net';
import cookie from '@fastify/cookie';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { ManagerServices } from '../services';
import { MAX_REALTIME_FEED_BYTES } from '../realtime/feedPoller';
import { registerRealtimeRoutes } from '../realtime/realtimeRoutes';
import { registerAccessControl, type RegisteredRoute } from './access/routeAccess';
import { registerApiRoutes } from './apiRoutes';
import { readConsoleFiles, registerConsoleRoutes } from './consoleFiles';
import { registerHostCheck } from './hostCheck';
import { registerAuditRoutes } from './routes/auditRoutes';
import { registerOperatorRoutes } from './routes/operatorRoutes';
import { registerProvisioningRoutes } from './routes/provisioningRoutes';
import { registerSessionRoutes } from './routes/sessionRoutes';
import { registerSecurityHeaders } from './securityHeaders';

export class HttpServer {
  private app: FastifyInstance | undefined;
  private readonly registered: RegisteredRoute[] = [];

  constructor(
    private readonly options: {
      host: string;
      port: number;
      services: ManagerServices;
      logger: Logger;
      /** HTTPS with this certificate; plain HTTP without (behind a TLS-terminating proxy). */
      tls?: { certPem: string; keyPem: string } | undefined;
      /** Host header names answered; anything else gets 403. */
      allowedHosts: readonly string[];
    },
  ) {}

  /** Every route and the access it declared, for the route matrix test and the README. */
  routes(): readonly RegisteredRoute[] {
    return this.registered;
  }

  /** Resolves with the base URL the server answers on. */
  async start(): Promise<string> {
    const { tls, services } = this.options;
    // Fastify's own per-request logging would drown the fleet log (the console polls); errors are logged here.
    const app = Fastify({
      logger: false,
      ...(tls
        ? { https: { cert: tls.certPem, key: tls.keyPem, minVersion: 'TLSv1.2' as const } }
        : {}),
    }) as unknown as FastifyInstance;
    app.setErrorHandler<FastifyError>((error, request, reply) => {
      const code = error.statusCode ?? 500;
      if (code >= 500)
        this.options.logger.error({ err: error.message, url: request.url }, 'HTTP handler failed');
      void reply.code(code).send({ error: error.message });
    });
    // GTFS-realtime pushes are read whole, within a feed's size bound; GTFS uploads stream (gtfsUpload.ts).
    app.addContentTypeParser(
      ['application/x-protobuf', 'application/vnd.google.protobuf'],
      { parseAs: 'buffer', bodyLimit: MAX_REALTIME_FEED_BYTES },
      (_request, body, done) => done(null, body),
    );
    // A request for a name not served here is refused before anything else looks at it.
    registerHostCheck(app, this.options.allowedHosts);
    await registerSecurityHeaders(app);
    await app.register(cookie);
    registerAccessControl(app, services.accounts, this.registered);
    registerConsoleRoutes(app, readConsoleFiles());
    registerApiRoutes(app, services);
    registerRealtimeRoutes(app, services);
    registerSessionRoutes(app, services);
    registerOperatorRoutes(app, services);
    registerProvisioningRoutes(app, services);
    registerAuditRoutes(app, services);
    await app.listen({ host: this.options.host, port: this.options.port });
    this.app = app;
    const { port } = app.server.address() as AddressInfo;
    const host = this.options.host.includes(':') ? `[${this.options.host}]` : this.options.host;
    return `${tls ? 'https' : 'http'}://${host}:${port}`;
  }

  async stop(): Promise<void> {
    const app = this.app;
    this.app = undefined;
    await app?.close();
  }
}
