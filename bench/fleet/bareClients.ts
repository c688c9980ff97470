/**
 * The floor under a connect storm: plain MQTT clients that connect and do
 * nothing else (clean session, no will, no subscription), at the same rate,
 * over the same TLS with the signs' own accounts (the signs themselves are
 * not connected meanwhile).
 */
import mqtt, { type MqttClient } from 'mqtt';
import type { CredentialSource } from '../../scripts/fleet/credentials';
import type { SimulatedIdentity } from '../../scripts/fleet/feedStops';
import { assertLoopback } from '../../scripts/fleet/loopback';

export class BareClients {
  private readonly clients: MqttClient[] = [];
  connected = 0;

  constructor(
    private readonly brokerUrl: string,
    private readonly credentials: CredentialSource,
  ) {
    assertLoopback(brokerUrl);
  }

  async start(identities: readonly SimulatedIdentity[], rampPerSecond: number): Promise<void> {
    const began = performance.now();
    for (const [i, identity] of identities.entries()) {
      const wait = began + (i / rampPerSecond) * 1000 - performance.now();
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
      const client = mqtt.connect(this.brokerUrl, {
        ...(await this.credentials(identity.deviceId)),
        clientId: identity.deviceId,
        clean: true,
        reconnectPeriod: 1000,
        connectTimeout: 30_000,
      });
      client.on('connect', () => (this.connected += 1));
      client.on('close', () => {
        if (client.connected) this.connected -= 1;
      });
      client.on('error', () => undefined);
      this.clients.push(client);
    }
  }

  async stop(): Promise<void> {
    for (let i = 0; i < this.clients.length; i += 500) {
      await Promise.all(this.clients.slice(i, i + 500).map((c) => c.endAsync(true)));
    }
    this.clients.length = 0;
  }
}
