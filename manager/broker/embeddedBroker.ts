/** The in-process MQTT broker (aedes) that lets one command run the whole system. */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { Aedes } from 'aedes';
import type { Logger } from 'pino';
import { indexedRetainedPersistence } from './retainedIndex';

export class EmbeddedBroker {
  private broker: Aedes | undefined;
  private server: net.Server | undefined;

  constructor(private readonly options: { host: string; port: number; logger: Logger }) {}

  /** Resolves with the bound port (useful when configured with port 0). */
  async start(): Promise<number> {
    // Retained messages by exact topic: a fleet of signs connecting must not cost O(signs²).
    const broker = await Aedes.createBroker({ persistence: indexedRetainedPersistence() });
    broker.on('clientError', (client, err) => {
      this.options.logger.debug({ clientId: client.id, err: err.message }, 'mqtt client error');
    });
    const server = net.createServer(broker.handle);
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
    this.options.logger.info({ host: this.options.host, port }, 'embedded MQTT broker listening');
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
