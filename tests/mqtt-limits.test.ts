/**
 * What one MQTT client may cost. The embedded broker hangs up on a packet
 * whose header announces more than the limit (a 256 MB PUBLISH costs it one
 * read), refuses payloads over a protocol topic's limit before retaining them,
 * caps retained topics and subscriptions per client and connections overall.
 * Mosquitto, set up as the README says, refuses the oversized packet too, and
 * a sign's own client drops a connection that brings one.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import tls from 'node:tls';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedBroker, type BrokerAccessControl } from '../manager/broker/embeddedBroker';
import { DEFAULT_BROKER_LIMITS, type BrokerLimits } from '../manager/broker/brokerLimits';
import { ManagerLink } from '../device/link/managerLink';
import { topics } from '../shared';
import { startBroker } from './helpers/deviceBroker';
import { captureLogger, waitFor } from './helpers/deviceFixtures';
import { Mosquitto, quietLogger } from './helpers/system';
import { testTls } from './helpers/testTls';

const MiB = 1024 * 1024;

/** MQTT 3.1.1 CONNECT for a clean session, built by hand so nothing buffers for us. */
function connectPacket(clientId: string, login?: { username: string; password: string }): Buffer {
  const field = (text: string) => {
    const bytes = Buffer.from(text);
    return Buffer.concat([Buffer.from([bytes.length >> 8, bytes.length & 0xff]), bytes]);
  };
  // Clean session, and the username and password flags when there is a login.
  const flags = login ? 0xc2 : 0x02;
  const body = Buffer.concat([
    Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 4, flags, 0, 60]),
    field(clientId),
    ...(login ? [field(login.username), field(login.password)] : []),
  ]);
  return Buffer.concat([Buffer.from([0x10, body.length]), body]);
}

/** The fixed header and topic of a retained QoS 0 PUBLISH announcing `payloadBytes`. */
function publishHeader(topic: string, payloadBytes: number): Buffer {
  const name = Buffer.from(topic);
  let remaining = 2 + name.length + payloadBytes;
  const length: number[] = [];
  do {
    let byte = remaining % 128;
    remaining = Math.floor(remaining / 128);
    if (remaining > 0) byte |= 0x80;
    length.push(byte);
  } while (remaining > 0);
  return Buffer.concat([
    Buffer.from([0x31, ...length]),
    Buffer.from([name.length >> 8, name.length & 0xff]),
    name,
  ]);
}

/**
 * Connects (plain TCP, or TLS with a login as Mosquitto wants it), then starts a
 * PUBLISH of `announced` bytes and keeps sending until the broker hangs up.
 * Resolves with how many payload bytes got out before that.
 */
async function sendHugePublish(
  port: number,
  announced: number,
  secure?: { username: string; password: string },
): Promise<number> {
  const socket = secure
    ? tls.connect({ port, host: '127.0.0.1', ca: testTls().caPem })
    : net.connect(port, '127.0.0.1');
  await new Promise((resolve) => socket.once(secure ? 'secureConnect' : 'connect', resolve));
  socket.write(connectPacket(secure?.username ?? 'attacker', secure));
  const connack = await new Promise<Buffer>((resolve) => socket.once('data', resolve));
  // CONNACK return code 0: in, as a client whose credentials the broker took.
  expect(connack[3]).toBe(0);
  socket.write(publishHeader('stopsign/v1/stop/S1/arrivals', announced));
  let sent = 0;
  const chunk = Buffer.alloc(64 * 1024, 0x41);
  return new Promise((resolve) => {
    socket.once('close', () => resolve(sent));
    socket.on('error', () => undefined);
    const pump = () => {
      while (!socket.destroyed && sent < announced) {
        sent += chunk.length;
        if (!socket.write(chunk)) return void socket.once('drain', pump);
      }
    };
    pump();
  });
}

/**
 * Access control that lets every client do anything: what these tests measure
 * is the limits alone, as a client the real access control let in (a sign
 * whose secret leaked, say) would meet them. The access control itself is
 * tested in broker-attacks.test.ts.
 */
const everyoneAllowed: BrokerAccessControl = {
  hooks: () => ({
    preConnect: (_client, _packet, done) => done(null, true),
    authenticate: (_client, _username, _password, done) => done(null, true),
    authorizePublish: (_client, _packet, done) => done(null),
    authorizeSubscribe: (_client, subscription, done) => done(null, subscription),
  }),
  attach: () => undefined,
};

async function client(port: number, clientId: string): Promise<MqttClient> {
  return mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
    clientId,
    reconnectPeriod: 0,
    connectTimeout: 2000,
  });
}

/** Retained messages a fresh subscriber receives on `filter` within a moment. */
async function retainedOn(port: number, filter: string): Promise<string[]> {
  const probe = await client(port, `probe-${Math.random()}`);
  const seen: string[] = [];
  probe.on('message', (topic) => seen.push(topic));
  await probe.subscribeAsync(filter, { qos: 1 });
  await new Promise((r) => setTimeout(r, 300));
  await probe.endAsync(true);
  return seen.sort();
}

describe('embedded broker limits', () => {
  let broker: EmbeddedBroker;
  let port: number;
  const open: MqttClient[] = [];
  const limits: BrokerLimits = { ...DEFAULT_BROKER_LIMITS, maxConnections: 6 };

  beforeAll(async () => {
    broker = new EmbeddedBroker({
      host: '127.0.0.1',
      port: 0,
      logger: quietLogger,
      access: everyoneAllowed,
      limits,
      trustedClientIds: ['the-manager'],
    });
    port = await broker.start();
  });
  afterEach(async () => {
    for (const c of open.splice(0)) await c.endAsync(true);
  });
  afterAll(async () => broker.stop());

  it('hangs up on a 256 MB PUBLISH after its header, and keeps serving others', async () => {
    const sent = await sendHugePublish(port, 256 * MiB);
    // What got out before the hang-up is what the socket buffers held, not the packet.
    expect(sent).toBeLessThan(16 * MiB);
    expect(broker.oversizedPackets).toBe(1);
    expect(await retainedOn(port, 'stopsign/#')).toEqual([]);
    const ok = await client(port, 'well-behaved');
    open.push(ok);
    await ok.publishAsync('stopsign/v1/stop/S1/arrivals', 'x', { qos: 1, retain: true });
    expect(await retainedOn(port, 'stopsign/#')).toEqual(['stopsign/v1/stop/S1/arrivals']);
    await ok.publishAsync('stopsign/v1/stop/S1/arrivals', '', { qos: 1, retain: true });
  });

  it("refuses a payload over its topic's protocol limit before retaining it", async () => {
    const c = await client(port, 'stranger');
    const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
    c.publish(topics.stopArrivals('S2'), Buffer.alloc(100 * 1024, 0x20), { qos: 1, retain: true });
    await closed;
    await c.endAsync(true);
    expect(await retainedOn(port, topics.stopArrivals('S2'))).toEqual([]);
  });

  it("caps the retained topics of one client, but not the manager's", async () => {
    const c = await client(port, 'hoarder');
    const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
    for (let i = 0; i < limits.maxRetainedPerClient + 1; i++) {
      c.publish(`junk/${i}`, 'x', { qos: 1, retain: true });
    }
    await closed;
    await c.endAsync(true);
    expect(await retainedOn(port, 'junk/#')).toHaveLength(limits.maxRetainedPerClient);
    const manager = await client(port, 'the-manager');
    open.push(manager);
    for (let i = 0; i < 20; i++)
      await manager.publishAsync(`fleet/${i}`, 'x', { qos: 1, retain: true });
    expect(await retainedOn(port, 'fleet/#')).toHaveLength(20);
  });

  it('refuses subscriptions past the cap with return code 128', async () => {
    const c = await client(port, 'listener');
    open.push(c);
    const wanted = Array.from({ length: limits.maxSubscriptionsPerClient + 3 }, (_, i) => `t/${i}`);
    // mqtt.js rejects a SUBACK with any refusal; the return codes travel with the error.
    const error = (await c.subscribeAsync(wanted, { qos: 1 }).catch((e: unknown) => e)) as {
      packet?: { granted: number[] };
    };
    const granted = error.packet?.granted ?? [];
    expect(granted.filter((code) => code === 128)).toHaveLength(3);
    expect(granted.slice(0, limits.maxSubscriptionsPerClient).every((code) => code === 1)).toBe(
      true,
    );
  });

  it('closes connections past the cap', async () => {
    for (let i = 0; i < limits.maxConnections; i++) open.push(await client(port, `c${i}`));
    const extra = net.connect(port, '127.0.0.1');
    extra.on('error', () => undefined);
    let answered = false;
    extra.once('data', () => (answered = true));
    extra.once('connect', () => extra.write(connectPacket('one-too-many')));
    await new Promise((resolve) => extra.once('close', resolve));
    expect(answered).toBe(false);
  });
});

describe('Mosquitto with the recommended settings', () => {
  let dir: string;
  let broker: Mosquitto;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-mosq-'));
    broker = await Mosquitto.start(dir);
  });
  afterAll(async () => {
    await broker?.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('hangs up on a 256 MB PUBLISH too, even from a client it let in', async () => {
    const login = { username: broker.adminUser, password: broker.adminPassword };
    expect(await sendHugePublish(broker.port, 256 * MiB, login)).toBeLessThan(16 * MiB);
    const c = await mqtt.connectAsync(broker.url, {
      ...login,
      clientId: 'after',
      ca: testTls().caPem,
      reconnectPeriod: 0,
      connectTimeout: 2000,
    });
    await c.endAsync(true);
  });
});

describe("a sign's client", () => {
  it('drops a connection that delivers an oversized packet, counts it, and carries on', async () => {
    // A broker without limits: the sign has to protect itself.
    const broker = await startBroker();
    const { logger } = captureLogger();
    const link = new ManagerLink({
      deviceId: 'sign-1',
      brokerUrl: broker.url,
      firmwareVersion: 'test',
      startedAt: 0,
      reconnectMinMs: 100,
      reconnectMaxMs: 200,
      maxPacketBytes: 256 * 1024,
      logger,
    });
    const publisher = await client(broker.port, 'stranger');
    try {
      await link.start();
      await waitFor('the sign connected', () => link.isConnected());
      await publisher.publishAsync(topics.deviceConfig('sign-1'), Buffer.alloc(MiB, 0x20), {
        qos: 0,
        retain: false,
      });
      await waitFor(
        'the oversized packet counted',
        () => link.rejections()['unknown-topic:oversized'] === 1,
      );
      await waitFor('the sign connected again', () => link.isConnected());
    } finally {
      await link.stop();
      await publisher.endAsync(true);
      await broker.close();
    }
  });
});
