import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { ManagerServices } from '../services';
import { MAX_REALTIME_FEED_BYTES } from '../realtime/feedPoller';
import { registerRealtimeRoutes } from '../realtime/realtimeRoutes';
import { registerApiRoutes } from './apiRoutes';
import { registerHostCheck } from './hostCheck';
import { registerSecurityHeaders } from './securityHeaders';

const consoleHtml = new URL('./console/index.html', import.meta.url);

export class HttpServer {
  private app: FastifyInstance | undefined;

  constructor(
    private readonly options: {
      host: string;
      port: number;
      services: ManagerServices;
      logger: Logger;
      /** Host header names answered; anything else gets 403. */
      allowedHosts: readonly string[];
    },
  ) {}

  /** Resolves with the base URL the server answers on. */
  async start(): Promise<string> {
    // Fastify's own per-request logging would drown the fleet log (the console polls); errors are logged here.
    const app = Fastify({ logger: false });
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
    const page = fs.readFileSync(consoleHtml, 'utf8');
    registerHostCheck(app, this.options.allowedHosts);
    await registerSecurityHeaders(app, page);
    app.get('/', async (_request, reply) => reply.type('text/html; charset=utf-8').send(page));
    registerApiRoutes(app, this.options.services);
    registerRealtimeRoutes(app, this.options.services);
    await app.listen({ host: this.options.host, port: this.options.port });
    this.app = app;
    const { port } = app.server.address() as AddressInfo;
    return `http://${this.options.host}:${port}`;
  }

  async stop(): Promise<void> {
    const app = this.app;
    this.app = undefined;
    await app?.close();
  }
}
