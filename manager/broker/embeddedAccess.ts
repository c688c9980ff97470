/**
 * Access control of the embedded broker, through aedes' hooks. Nobody
 * connects without credentials; a sign's username is its device id, its
 * client id must be the same (no taking over another sign's session), and its
 * secret is checked against the SHA-256 kept in the shared store. Each packet
 * is then checked against what that one client may do: a sign its own device
 * topics and its stop's, the manager everything of the protocol.
 */
import type { Aedes, AedesOptions, Client } from 'aedes';
import type { Logger } from 'pino';
import { signTopicGrant, TOPIC_ROOT, type SignTopicGrant } from '../../shared';
import { LoginThrottle } from '../security/loginThrottle';
import { sameSecret, sha256Hex } from '../security/secrets';
import type { SignCredentialRepository } from '../store/signCredentialRepository';
import type { SignRepository } from '../store/signRepository';
import type { BrokerAccess } from './brokerAccess';
import { BrokerRefusals, type RefusalReason } from './brokerRefusals';

export interface BrokerIdentity {
  username: string;
  password: string;
}

type Identity =
  | { kind: 'manager' }
  | { kind: 'observer' }
  | { kind: 'sign'; deviceId: string; grant: SignTopicGrant };

/** Usernames of read-only monitoring clients; ':' never occurs in a device id. */
export const OBSERVER_PREFIX = 'observer:';

/** MQTT 3.1.1 CONNACK codes. */
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;

export type AccessHooks = Required<
  Pick<AedesOptions, 'preConnect' | 'authenticate' | 'authorizePublish' | 'authorizeSubscribe'>
>;

export class EmbeddedBrokerAccess implements BrokerAccess {
  readonly refused: BrokerRefusals;
  private readonly identities = new WeakMap<Client, Identity>();
  /** Connected signs by device id, to cut one off or change its topics. */
  private readonly signClients = new Map<string, Client>();
  private readonly throttle: LoginThrottle;

  constructor(
    private readonly options: {
      manager: BrokerIdentity;
      /** The password of read-only observer:<name> accounts, if monitoring is allowed. */
      observerPassword?: string | undefined;
      signCredentials: SignCredentialRepository;
      signs: SignRepository;
      logger: Logger;
      clock?: () => number;
    },
  ) {
    this.refused = new BrokerRefusals(options.clock);
    // Ten wrong secrets a minute for one sign, forty from one address: enough for flaky links, not for guessing.
    this.throttle = new LoginThrottle({ maxFailures: 10, windowSeconds: 60 }, options.clock);
  }

  hooks(): AccessHooks {
    return {
      preConnect: (client, packet, done) => {
        const verdict = this.throttle.check(packet.clientId, addressOf(client));
        if (verdict.allowed) return done(null, true);
        this.refuse(
          'throttled',
          client,
          `retry in ${verdict.retryAfterSeconds} s`,
          packet.clientId,
        );
        done(null, false);
      },
      authenticate: (client, username, password, done) => {
        this.authenticate(client, username, password).then(
          (code) => {
            if (code === 0) return done(null, true);
            const err = Object.assign(new Error('not authorized'), { returnCode: code });
            done(err, false);
          },
          (err: Error) => {
            this.options.logger.error({ err: err.message }, 'broker authentication failed');
            const unavailable = Object.assign(new Error('server unavailable'), { returnCode: 3 });
            done(unavailable, false);
          },
        );
      },
      authorizePublish: (client, packet, done) => {
        // Messages the broker itself publishes (none today) have no client.
        if (client === null) return done(null);
        const identity = this.identities.get(client);
        if (identity?.kind === 'manager' && packet.topic.startsWith(`${TOPIC_ROOT}/`)) {
          return done(null);
        }
        if (identity?.kind === 'sign' && identity.grant.publish.includes(packet.topic)) {
          return done(null);
        }
        this.refuse(
          'publish-denied',
          client,
          packet.topic,
          identity?.kind === 'sign' ? identity.deviceId : undefined,
        );
        done(new Error(`publish to ${packet.topic} is not allowed`));
      },
      authorizeSubscribe: (client, subscription, done) => {
        const identity = this.identities.get(client);
        const allowed =
          identity?.kind === 'manager' || identity?.kind === 'observer'
            ? subscription.topic.startsWith(`${TOPIC_ROOT}/`)
            : identity?.kind === 'sign' && identity.grant.subscribe.includes(subscription.topic);
        if (allowed) return done(null, subscription);
        this.refuse(
          'subscribe-denied',
          client,
          subscription.topic,
          identity?.kind === 'sign' ? identity.deviceId : undefined,
        );
        // A null subscription is a refused one (SUBACK 0x80); the connection stays.
        done(null, null);
      },
    };
  }

  /** Follows clients as they come and go, so one can be cut off by its device id. */
  attach(broker: Aedes): void {
    broker.on('clientReady', (client) => {
      const identity = this.identities.get(client);
      if (identity?.kind === 'sign') this.signClients.set(identity.deviceId, client);
    });
    broker.on('clientDisconnect', (client) => {
      const identity = this.identities.get(client);
      if (identity?.kind === 'sign' && this.signClients.get(identity.deviceId) === client) {
        this.signClients.delete(identity.deviceId);
      }
    });
  }

  async signClaimed(deviceId: string): Promise<void> {
    // The new secret is in the store already; a session on the old one must go.
    this.disconnect(deviceId);
  }

  async signMoved(deviceId: string, stopId: string): Promise<void> {
    const client = this.signClients.get(deviceId);
    const identity = client ? this.identities.get(client) : undefined;
    if (client && identity?.kind === 'sign') {
      this.identities.set(client, { ...identity, grant: signTopicGrant(deviceId, stopId) });
    }
  }

  async signRevoked(deviceId: string): Promise<void> {
    this.disconnect(deviceId);
  }

  refusals() {
    return this.refused.snapshot();
  }

  refusalsFor(deviceId: string): number {
    return this.refused.forSign(deviceId);
  }

  private disconnect(deviceId: string): void {
    const client = this.signClients.get(deviceId);
    if (!client) return;
    this.signClients.delete(deviceId);
    this.options.logger.info({ deviceId }, 'cutting the sign off the broker');
    client.close();
  }

  /** Resolves with a CONNACK return code: 0 lets the client in. */
  private async authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
  ): Promise<number> {
    const address = addressOf(client);
    if (!username || !password) {
      this.refuse('anonymous', client, 'no username or password');
      return NOT_AUTHORIZED;
    }
    const secret = password.toString('utf8');
    if (client.id !== username) {
      this.failed(
        'client-id-mismatch',
        client,
        `client id ${client.id} for user ${username}`,
        username,
        address,
      );
      return NOT_AUTHORIZED;
    }
    const { manager } = this.options;
    if (username === manager.username) {
      if (!sameSecret(secret, manager.password)) {
        this.failed('bad-secret', client, 'wrong manager password', undefined, address);
        return BAD_USERNAME_OR_PASSWORD;
      }
      this.identities.set(client, { kind: 'manager' });
      return 0;
    }
    if (username.startsWith(OBSERVER_PREFIX)) {
      const expected = this.options.observerPassword;
      if (expected === undefined || !sameSecret(secret, expected)) {
        this.failed('bad-secret', client, 'wrong or no observer password', undefined, address);
        return BAD_USERNAME_OR_PASSWORD;
      }
      this.identities.set(client, { kind: 'observer' });
      return 0;
    }
    const credential = await this.options.signCredentials.get(username);
    if (!credential) {
      this.failed(
        'unknown-client',
        client,
        'no such sign or it was never provisioned',
        undefined,
        address,
      );
      return NOT_AUTHORIZED;
    }
    if (credential.revokedAt !== null) {
      this.failed('revoked', client, 'credentials revoked', username, address);
      return NOT_AUTHORIZED;
    }
    if (!sameSecret(sha256Hex(secret), credential.secretHash)) {
      this.failed('bad-secret', client, 'wrong secret', username, address);
      return BAD_USERNAME_OR_PASSWORD;
    }
    const sign = await this.options.signs.get(username);
    this.identities.set(client, {
      kind: 'sign',
      deviceId: username,
      grant: signTopicGrant(username, sign?.stopId ?? null),
    });
    return 0;
  }

  private failed(
    reason: RefusalReason,
    client: Client,
    detail: string,
    signId: string | undefined,
    address: string,
  ): void {
    this.throttle.fail(client.id, address);
    this.refuse(reason, client, detail, signId);
  }

  private refuse(reason: RefusalReason, client: Client, detail: string, signId?: string): void {
    const address = addressOf(client);
    this.refused.record(reason, client.id, address, detail, signId);
    this.options.logger.warn({ reason, clientId: client.id, address, detail }, 'broker refused');
  }
}

function addressOf(client: Client): string {
  const conn = client.conn as { remoteAddress?: string };
  return conn.remoteAddress ?? 'unknown';
}
