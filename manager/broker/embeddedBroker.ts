/**
 * The in-process MQTT broker (aedes) that lets one command run the whole
 * system. It speaks MQTT over TLS by default, lets nobody in without the
 * access control it is given, and bounds what each client may cost it.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { Aedes } from 'aedes';
import type { Logger } from 'pino';
import { flatEmitter } from './flatEmitter';
import { ClientQuotas, guardPacketSize, withQuotas, type BrokerLimits } from './brokerLimits';
import { indexedRetainedPersistence } from './retainedIndex';
import { connectionCap, ownOpenFileLimit } from './openFileLimit';
import type { EmbeddedBrokerAccess } from './embeddedAccess';

/** Who may connect and use which topic: the hooks to create aedes with, and a look at its clients. */
export type BrokerAccessControl = Pick<EmbeddedBrokerAccess, 'hooks' | 'attach'>;

export interface EmbeddedBrokerOptions {
  host: string;
  port: number;
  logger: Logger;
  access: BrokerAccessControl;
  /** Without it the listener is plain TCP (behind a TLS-terminating proxy, say). */
  tls?: { certPem: string; keyPem: string } | undefined;
  limits: BrokerLimits;
  /** Client ids allowed retained state beyond the per-client cap: the manager's own. */
  trustedClientIds: readonly string[];
  /** Told of each connection closed on arrival because the broker holds its most. */
  onConnectionDropped?: (address: string, detail: string) => void;
}

/** aedes' default: messages in flight on its bus before the rest queue. */
const AEDES_CONCURRENCY = 100;
/** Connections dropped at the cap are logged at most this often, with their count. */
const DROP_LOG_INTERVAL_MS = 60_000;

export class EmbeddedBroker {
  private broker: Aedes | undefined;
  private server: net.Server | undefined;
  /** Connections refused for a packet over the size limit, for health and tests. */
  oversizedPackets = 0;

  constructor(private readonly options: EmbeddedBrokerOptions) {}

  /** Resolves with the bound port (useful when configured with port 0). */
  async start(): Promise<number> {
    const { access, limits, logger } = this.options;
    const quotas = new ClientQuotas(limits, new Set(this.options.trustedClientIds), logger);
    const broker = await Aedes.createBroker({
      // Retained messages by exact topic: a fleet of signs connecting must not cost O(signs²).
      persistence: indexedRetainedPersistence(),
      // aedes' own bus, minus the recursive drain that overflows when a fleet reconnects at once.
      mq: flatEmitter(AEDES_CONCURRENCY),
      concurrency: AEDES_CONCURRENCY,
      // Who may do what first, then how much of it.
      ...withQuotas(access.hooks(), quotas),
    });
    access.attach(broker);
    quotas.follow(broker);
    broker.on('clientError', (client, err) => {
      logger.debug({ clientId: client.id, err: err.message }, 'mqtt client error');
    });
    const handle = (socket: net.Socket) => {
      guardPacketSize(socket, limits.maxPacketBytes, (size) => {
        this.oversizedPackets += 1;
        logger.warn(
          { remote: socket.remoteAddress, size, limit: limits.maxPacketBytes },
          'MQTT connection closed: packet over the size limit',
        );
      });
      broker.handle(socket);
    };
    const server = this.options.tls
      ? tls.createServer(
          { cert: this.options.tls.certPem, key: this.options.tls.keyPem, minVersion: 'TLSv1.2' },
          handle,
        )
      : net.createServer(handle);
    if (this.options.tls) {
      server.on('tlsClientError', (err: Error) =>
        logger.debug({ err: err.message }, 'TLS handshake failed'),
      );
    }
    // Past this many, new connections are closed as they arrive.
    const openFileLimit = ownOpenFileLimit();
    server.maxConnections = connectionCap(limits.maxConnections, openFileLimit);
    if (server.maxConnections < limits.maxConnections) {
      logger.warn(
        { maxConnections: server.maxConnections, configured: limits.maxConnections, openFileLimit },
        'MQTT connections capped below the configured number to leave the manager open files; ' +
          'raise the open-file limit (LimitNOFILE) to serve more signs',
      );
    }
    this.followDrops(server, server.maxConnections, openFileLimit);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => {
        server.off('error', reject);
        // A failed accept is the listener's problem, not the manager's: it keeps serving.
        server.on('error', (err: Error) =>
          logger.error({ err: err.message }, 'MQTT listener error'),
        );
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

  private followDrops(server: net.Server, cap: number, openFileLimit: number | undefined): void {
    const { logger, onConnectionDropped } = this.options;
    const detail = `the broker holds its most connections (${cap}; open-file limit ${openFileLimit ?? 'none'})`;
    let sinceLog = 0;
    let lastLog = 0;
    server.on('drop', (data?: { remoteAddress?: string }) => {
      sinceLog += 1;
      onConnectionDropped?.(data?.remoteAddress ?? 'unknown', detail);
      const now = Date.now();
      if (now - lastLog < DROP_LOG_INTERVAL_MS) return;
      logger.warn(
        { dropped: sinceLog, maxConnections: cap, openFileLimit },
        'MQTT connections dropped at the cap',
      );
      lastLog = now;
      sinceLog = 0;
    });
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
