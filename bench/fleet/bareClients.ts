/**
 * The floor under a connect storm: plain MQTT clients that connect and do
 * nothing else (clean session, no will, no subscription), at the same rate.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { assertLoopback } from '../../scripts/fleet/loopback';

export class BareClients {
  private readonly clients: MqttClient[] = [];
  connected = 0;

  constructor(private readonly brokerUrl: string) {
    assertLoopback(brokerUrl);
  }

  async start(count: number, rampPerSecond: number, prefix: string): Promise<void> {
    const began = performance.now();
    for (let i = 0; i < count; i++) {
      const wait = began + (i / rampPerSecond) * 1000 - performance.now();
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
      const client = mqtt.connect(this.brokerUrl, {
        clientId: `${prefix}-${i}`,
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
