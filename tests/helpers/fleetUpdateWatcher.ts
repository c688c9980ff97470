/**
 * The manager's side of one sign's updates, as a plain MQTT client: publishes
 * offers, and collects what the agent reports (status and events).
 */
import { randomUUID } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import {
  decodeMessage,
  encodeMessage,
  topics,
  type UpdateEventData,
  type UpdateOfferData,
  type UpdateStatusData,
} from '../../shared';
import type { BuiltBundle } from '../../scripts/bundle/makeBundle';
import { waitFor } from './deviceFixtures';

export class FleetUpdateWatcher {
  readonly statuses: UpdateStatusData[] = [];
  readonly events: UpdateEventData[] = [];
  private client: MqttClient | undefined;

  constructor(
    private readonly brokerUrl: string,
    private readonly deviceId: string,
  ) {}

  async start(): Promise<void> {
    const client = await mqtt.connectAsync(this.brokerUrl, { clientId: `watcher-${randomUUID()}` });
    this.client = client;
    client.on('message', (topic, payload) => {
      if (payload.length === 0) return;
      if (topic === topics.deviceUpdateStatus(this.deviceId)) {
        const d = decodeMessage('deviceUpdateStatus', payload, this.deviceId);
        if (d.ok) this.statuses.push(d.message.data);
      } else if (topic === topics.deviceUpdateEvent(this.deviceId)) {
        const d = decodeMessage('deviceUpdateEvent', payload, this.deviceId);
        if (d.ok) this.events.push(d.message.data);
      }
    });
    await client.subscribeAsync(
      [topics.deviceUpdateStatus(this.deviceId), topics.deviceUpdateEvent(this.deviceId)],
      { qos: 1 },
    );
  }

  async stop(): Promise<void> {
    await this.client?.endAsync();
  }

  latest(): UpdateStatusData | undefined {
    return this.statuses.at(-1);
  }

  async offer(
    bundle: BuiltBundle,
    url: string,
    overrides: Partial<UpdateOfferData> = {},
  ): Promise<UpdateOfferData> {
    const offer: UpdateOfferData = {
      deviceId: this.deviceId,
      offerId: randomUUID(),
      rolloutId: 'test-rollout',
      version: bundle.manifest.version,
      url,
      sha256: bundle.sha256,
      size: bundle.size,
      totalSize: bundle.manifest.totalSize,
      issuedAt: Math.floor(Date.now() / 1000),
      ...overrides,
    };
    await this.client?.publishAsync(
      topics.deviceUpdateOffer(this.deviceId),
      encodeMessage('deviceUpdateOffer', offer),
      { qos: 1, retain: true },
    );
    return offer;
  }

  /** The outcome the agent reported for this offer. */
  async outcome(
    offerId: string,
    timeoutMs = 15_000,
  ): Promise<NonNullable<UpdateStatusData['lastOutcome']>> {
    await waitFor(
      `the outcome of offer ${offerId}`,
      () => this.latest()?.lastOutcome?.offerId === offerId,
      timeoutMs,
      50,
    );
    const outcome = this.latest()?.lastOutcome;
    if (!outcome) throw new Error('no outcome');
    return outcome;
  }

  phasesOf(offerId: string): string[] {
    return this.events.filter((e) => e.offerId === offerId).map((e) => e.to);
  }
}
