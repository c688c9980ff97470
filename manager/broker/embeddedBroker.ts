/**
 * The in-process MQTT broker (aedes) that lets one command run the whole
 * system. It speaks MQTT over TLS by default, and lets nobody in without the
 * access control it is given.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { Aedes } from 'aedes';
import type { Logger } from 'pino';
import { indexedRetainedPersistence } from './retainedIndex';
import type { EmbeddedBrokerAccess } from './embeddedAccess';

export class EmbeddedBroker {
  private broker: Aedes | undefined;
  private server: net.Server | undefined;

  constructor(
    private readonly options: {
      host: string;
      port: number;
      logger: Logger;
      access: EmbeddedBrokerAccess;
      /** Without it the listener is plain TCP (behind a TLS-terminating proxy, say). */
      tls?: { certPem: string; keyPem: string } | undefined;
    },
  ) {}

  /** Resolves with the bound port (useful when configured with port 0). */
  async start(): Promise<number> {
    // Retained messages by exact topic: a fleet of signs connecting must not cost O(signs²).
    const { access, logger } = this.options;
    const broker = await Aedes.createBroker({
      persistence: indexedRetainedPersistence(),
      ...access.hooks(),
    });
    access.attach(broker);
    broker.on('clientError', (client, err) => {
      logger.debug({ clientId: client.id, err: err.message }, 'mqtt client error');
    });
    const server = this.options.tls
      ? tls.createServer(
          { cert: this.options.tls.certPem, key: this.options.tls.keyPem, minVersion: 'TLSv1.2' },
          broker.handle,
        )
      : net.createServer(broker.handle);
    if (this.options.tls) {
      server.on('tlsClientError', (err: Error) =>
        logger.debug({ err: err.message }, 'TLS handshake failed'),
      );
    }
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.broker = broker;
    this.server = server;
    const port = (server.address() as AddressInfo).port;
    logger.info(
      { host: this.options.host, port, tls: this.options.tls !== undefined },
      'embedded MQTT broker listening',
    );
    return port;
  }

  async stop(): Promise<void> {
    const { server, broker } = this;
    this.server = undefined;
    this.broker = undefined;
    // server.close() only resolves once every socket is gone, and closing the broker is what ends them.
    const serverClosed = server
      ? new Promise<void>((resolve) => server.close(() => resolve()))
      : Promise.resolve();
    if (broker) await new Promise<void>((resolve) => broker.close(() => resolve()));
    await serverClosed;
  }
}
