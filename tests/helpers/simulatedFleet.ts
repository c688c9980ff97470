/**
 * Many signs' update agents, simulated on one MQTT client: each answers an
 * offer the way its behaviour says (update and commit, fail its trial, or
 * never answer), reporting through the real protocol topics.
 */
import { randomUUID } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import {
  decodeMessage,
  encodeMessage,
  parseTopic,
  TOPIC_ROOT,
  topics,
  type UpdateOfferData,
  type UpdateStatusData,
} from '../../shared';

export type Behaviour = 'succeed' | 'fail' | 'silent';

export class SimulatedFleet {
  readonly offers: UpdateOfferData[] = [];
  private client: MqttClient | undefined;
  private readonly installed = new Map<string, string>();

  constructor(
    private readonly brokerUrl: string,
    /** Decides per offer; called in the order offers arrive. */
    private readonly behaviour: (offer: UpdateOfferData, index: number) => Behaviour,
  ) {}

  async start(): Promise<void> {
    const client = await mqtt.connectAsync(this.brokerUrl, { clientId: `fleet-${randomUUID()}` });
    this.client = client;
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
    await client.subscribeAsync(`${TOPIC_ROOT}/device/+/update`, { qos: 1 });
  }

  async stop(): Promise<void> {
    await this.client?.endAsync();
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
    await this.client?.publishAsync(
      topics.deviceUpdateStatus(status.deviceId),
      encodeMessage('deviceUpdateStatus', status),
      { qos: 1, retain: true },
    );
  }
}
