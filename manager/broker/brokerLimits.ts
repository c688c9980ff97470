/**
 * What one MQTT client may cost the embedded broker: packets up to a size
 * (checked from the fixed header, before the body is buffered), payloads on
 * protocol topics within the protocol's per-topic limits, a few retained
 * topics and subscriptions, and a bounded number of connections overall. The
 * manager's own client is trusted with retained state for the whole fleet.
 */
import type net from 'node:net';
import type { Aedes, AedesOptions, Client } from 'aedes';
import type { Logger } from 'pino';
import { maxPayloadBytes, MqttPacketSizeGuard, parseTopic } from '../../shared';

export interface BrokerLimits {
  maxPacketBytes: number;
  maxConnections: number;
  maxRetainedPerClient: number;
  maxSubscriptionsPerClient: number;
}

export const DEFAULT_BROKER_LIMITS: BrokerLimits = {
  // A full offline schedule (1 MiB of JSON) and its topic fit; nothing much bigger does.
  maxPacketBytes: 2 * 1024 * 1024,
  // A city-scale fleet (the fleet simulator goes to 25,000 signs) with room to spare.
  maxConnections: 50_000,
  maxRetainedPerClient: 8,
  maxSubscriptionsPerClient: 32,
};

/**
 * Wraps the socket's read(), the call aedes pulls bytes with, so every packet
 * header is seen before aedes' parser buffers the body. An oversized packet
 * ends the connection at once.
 */
export function guardPacketSize(
  socket: net.Socket,
  maxPacketBytes: number,
  onRefused: (size: number) => void,
): void {
  const guard = new MqttPacketSizeGuard(maxPacketBytes);
  const read = socket.read.bind(socket);
  socket.read = (size?: number) => {
    const chunk = read(size) as Buffer | string | null;
    if (chunk === null || typeof chunk === 'string') return chunk;
    const tooLarge = guard.feed(chunk);
    if (tooLarge === undefined) return chunk;
    onRefused(tooLarge);
    socket.destroy();
    return null;
  };
}

type AuthorizePublishHandler = NonNullable<AedesOptions['authorizePublish']>;
type AuthorizeSubscribeHandler = NonNullable<AedesOptions['authorizeSubscribe']>;

/** Counts retained topics and subscriptions per client id and refuses past the caps. */
export class ClientQuotas {
  private readonly retained = new Map<string, Set<string>>();
  private readonly subscriptions = new Map<string, Set<string>>();

  constructor(
    private readonly limits: BrokerLimits,
    private readonly trusted: ReadonlySet<string>,
    private readonly logger: Logger,
  ) {}

  /** The hooks to create the broker with. */
  hooks(): {
    authorizePublish: AuthorizePublishHandler;
    authorizeSubscribe: AuthorizeSubscribeHandler;
  } {
    return { authorizePublish: this.authorizePublish, authorizeSubscribe: this.authorizeSubscribe };
  }

  /** Subscriptions end with the session; retained messages outlive it and stay counted. */
  follow(broker: Aedes): void {
    broker.on('clientDisconnect', (client: Client) => this.subscriptions.delete(client.id));
  }

  private readonly authorizePublish: AuthorizePublishHandler = (client, packet, callback) => {
    if (packet.topic.startsWith('$SYS')) return callback(new Error('$SYS topics are reserved'));
    const id = client?.id;
    const size = packet.payload.length;
    const parsed = parseTopic(packet.topic);
    // Refused before it is retained or forwarded: no sign ever receives it.
    if (parsed && size > maxPayloadBytes[parsed.kind]) {
      return callback(
        new Error(
          `${size}-byte ${parsed.kind} payload over its ${maxPayloadBytes[parsed.kind]}-byte limit`,
        ),
      );
    }
    if (id === undefined || this.trusted.has(id) || !packet.retain) return callback(null);
    const topics = this.retained.get(id) ?? new Set<string>();
    if (size === 0) {
      topics.delete(packet.topic);
    } else if (!topics.has(packet.topic)) {
      if (topics.size >= this.limits.maxRetainedPerClient) {
        this.logger.warn(
          { clientId: id, topic: packet.topic },
          'retained message refused: client over its quota',
        );
        return callback(new Error(`client ${id} holds ${topics.size} retained topics already`));
      }
      topics.add(packet.topic);
    }
    this.retained.set(id, topics);
    callback(null);
  };

  private readonly authorizeSubscribe: AuthorizeSubscribeHandler = (client, sub, callback) => {
    if (this.trusted.has(client.id)) return callback(null, sub);
    const topics = this.subscriptions.get(client.id) ?? new Set<string>();
    if (!topics.has(sub.topic) && topics.size >= this.limits.maxSubscriptionsPerClient) {
      // A null subscription is refused with return code 0x80; the client stays connected.
      return callback(null, null);
    }
    topics.add(sub.topic);
    this.subscriptions.set(client.id, topics);
    callback(null, sub);
  };
}

/**
 * The access hooks with the quotas after them: a publish or subscription the
 * access control refuses is never counted, one it allows must still fit.
 */
export function withQuotas<H extends Pick<AedesOptions, 'authorizePublish' | 'authorizeSubscribe'>>(
  access: H,
  quotas: ClientQuotas,
): H {
  const quota = quotas.hooks();
  const allowPublish: AuthorizePublishHandler = (_client, _packet, done) => done(null);
  const allowSubscribe: AuthorizeSubscribeHandler = (_client, sub, done) => done(null, sub);
  const accessPublish = access.authorizePublish ?? allowPublish;
  const accessSubscribe = access.authorizeSubscribe ?? allowSubscribe;
  return {
    ...access,
    authorizePublish: (client, packet, done) =>
      accessPublish(client, packet, (err) =>
        err ? done(err) : quota.authorizePublish(client, packet, done),
      ),
    authorizeSubscribe: (client, sub, done) =>
      accessSubscribe(client, sub, (err, allowed) =>
        err || !allowed ? done(err, allowed) : quota.authorizeSubscribe(client, allowed, done),
      ),
  };
}
