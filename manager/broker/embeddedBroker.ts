/** The in-process MQTT broker (aedes) that lets one command run the whole system. */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { Aedes } from 'aedes';
import type { Logger } from 'pino';
import { ClientQuotas, guardPacketSize, type BrokerLimits } from './brokerLimits';

export interface EmbeddedBrokerOptions {
  host: string;
  port: number;
  logger: Logger;
  limits: BrokerLimits;
  /** Client ids allowed retained state beyond the per-client cap: the manager's own. */
  trustedClientIds: readonly string[];
}

export class EmbeddedBroker {
  private broker: Aedes | undefined;
  private server: net.Server | undefined;
  /** Connections refused for a packet over the size limit, for health and tests. */
  oversizedPackets = 0;

  constructor(private readonly options: EmbeddedBrokerOptions) {}

  /** Resolves with the bound port (useful when configured with port 0). */
  async start(): Promise<number> {
    const { limits, logger } = this.options;
    const quotas = new ClientQuotas(limits, new Set(this.options.trustedClientIds), logger);
    const broker = await Aedes.createBroker(quotas.hooks());
    quotas.follow(broker);
    broker.on('clientError', (client, err) => {
      logger.debug({ clientId: client.id, err: err.message }, 'mqtt client error');
    });
    const server = net.createServer((socket) => {
      guardPacketSize(socket, limits.maxPacketBytes, (size) => {
        this.oversizedPackets += 1;
        logger.warn(
          { remote: socket.remoteAddress, size, limit: limits.maxPacketBytes },
          'MQTT connection closed: packet over the size limit',
        );
      });
      broker.handle(socket);
    });
    // Past this many, new connections are closed as they arrive.
    server.maxConnections = limits.maxConnections;
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
