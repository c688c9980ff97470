/**
 * Many signs' update agents, each its own MQTT client signed in the way a
 * real agent is (update:<deviceId>, the sign's secret, the broker's CA), so
 * the broker's access control applies: each answers an offer the way its
 * behaviour says (update and commit, fail its trial, or never answer),
 * reporting through the real protocol topics.
 */
import mqtt, { type MqttClient } from 'mqtt';
import {
  decodeMessage,
  encodeMessage,
  parseTopic,
  topics,
  updateAgentUsername,
  type UpdateOfferData,
  type UpdateStatusData,
} from '../../shared';

export type Behaviour = 'succeed' | 'fail' | 'silent';

/** A provisioned sign as its agent signs in: device id, the sign's secret, the CA it pins. */
export interface AgentCredentials {
  deviceId: string;
  password: string;
  caPem: string;
}

export class SimulatedFleet {
  readonly offers: UpdateOfferData[] = [];
  private readonly clients = new Map<string, MqttClient>();
  private readonly installed = new Map<string, string>();

  constructor(
    private readonly brokerUrl: string,
    private readonly agents: AgentCredentials[],
    /** Decides per offer; called in the order offers arrive. */
    private readonly behaviour: (offer: UpdateOfferData, index: number) => Behaviour,
  ) {}

  async start(): Promise<void> {
    await Promise.all(this.agents.map((agent) => this.connect(agent)));
  }

  private async connect(agent: AgentCredentials): Promise<void> {
    const username = updateAgentUsername(agent.deviceId);
    const client = await mqtt.connectAsync(this.brokerUrl, {
      clientId: username,
      username,
      password: agent.password,
      ca: agent.caPem,
      reconnectPeriod: 0,
    });
    this.clients.set(agent.deviceId, client);
    client.on('message', (topic, payload) => {
      const parsed = parseTopic(topic);
      if (parsed?.kind !== 'deviceUpdateOffer' || payload.length === 0) return;
      const decoded = decodeMessage('deviceUpdateOffer', payload, parsed.id);
      if (!decoded.ok) return;
      const offer = decoded.message.data;
      if (this.offers.some((o) => o.offerId === offer.offerId)) return;
      this.offers.push(offer);
      void this.answer(offer, this.behaviour(offer, this.offers.length - 1));
    });
    const [granted] = await client.subscribeAsync(topics.deviceUpdateOffer(agent.deviceId), {
      qos: 1,
    });
    if (!granted || granted.qos > 2) throw new Error(`${username} may not hear its offers`);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.clients.values()].map((c) => c.endAsync()));
    this.clients.clear();
  }

  private async answer(offer: UpdateOfferData, behaviour: Behaviour): Promise<void> {
    if (behaviour === 'silent') return;
    const base = (): UpdateStatusData => ({
      deviceId: offer.deviceId,
      phase: 'idle',
      installedVersion: this.installed.get(offer.deviceId) ?? '1.0.0',
      offerId: offer.offerId,
      rolloutId: offer.rolloutId,
      targetVersion: offer.version,
      updatedAt: Math.floor(Date.now() / 1000),
    });
    for (const phase of ['downloading', 'installing', 'trial'] as const) {
      await this.publish({ ...base(), phase });
    }
    const at = Math.floor(Date.now() / 1000);
    if (behaviour === 'succeed') {
      this.installed.set(offer.deviceId, offer.version);
      await this.publish({
        ...base(),
        bootedVersion: offer.version,
        lastOutcome: {
          offerId: offer.offerId,
          rolloutId: offer.rolloutId,
          version: offer.version,
          result: 'committed',
          at,
        },
      });
    } else {
      await this.publish({
        ...base(),
        bootedVersion: '1.0.0',
        lastOutcome: {
          offerId: offer.offerId,
          rolloutId: offer.rolloutId,
          version: offer.version,
          result: 'rolled-back',
          reason: 'crashed-at-start',
          detail: 'did not stay up for 3 starts',
          at,
        },
      });
    }
  }

  private async publish(status: UpdateStatusData): Promise<void> {
    await this.clients
      .get(status.deviceId)
      ?.publishAsync(
        topics.deviceUpdateStatus(status.deviceId),
        encodeMessage('deviceUpdateStatus', status),
        { qos: 1, retain: true },
      );
  }
}
