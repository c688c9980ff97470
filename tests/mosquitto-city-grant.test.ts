/**
 * Signs provisioned on Mosquitto before the city-wide announcement topic
 * existed have roles without it: the manager gives every such role the topic
 * once when it starts, and later starts send nothing. Against a real
 * Mosquitto 2 with its dynamic security plugin.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../shared';
import { MosquittoDynsecAccess, signRoleName } from '../manager/broker/mosquittoDynsec';
import { Mosquitto, quietLogger } from './helpers/system';
import { testTls } from './helpers/testTls';

const CONTROL = '$CONTROL/dynamic-security/v1';
const SIGN = 'old-sign-1';
const SECRET = 'the old sign secret 1234';

/** Sends dynsec commands as the broker's admin and waits for the answer. */
async function dynsec(admin: MqttClient, commands: object[]): Promise<{ error?: string }[]> {
  const answered = new Promise<{ error?: string }[]>((resolve) =>
    admin.once('message', (_topic, payload) =>
      resolve((JSON.parse(payload.toString()) as { responses: { error?: string }[] }).responses),
    ),
  );
  await admin.publishAsync(CONTROL, JSON.stringify({ commands }), { qos: 1 });
  return answered;
}

/** What the broker grants the sign for a subscription to the city topic (128: refused). */
async function cityGrantedToSign(url: string): Promise<number | undefined> {
  const sign = await mqtt.connectAsync(url, {
    clientId: SIGN,
    username: SIGN,
    password: SECRET,
    ca: testTls().caPem,
    reconnectPeriod: 0,
  });
  try {
    const granted = await sign
      .subscribeAsync(topics.cityAnnouncement(), { qos: 1 })
      .catch((err: { packet?: { granted?: number[] } }) =>
        (err.packet?.granted ?? []).map((qos) => ({ qos })),
      );
    return granted[0]?.qos;
  } finally {
    sign.end(true);
  }
}

describe('sign roles from before the city-wide topic, on Mosquitto 2', () => {
  let dir: string;
  let mosquitto: Mosquitto;
  let admin: MqttClient;
  const access = () =>
    new MosquittoDynsecAccess({
      url: mosquitto.url,
      username: mosquitto.adminUser,
      password: mosquitto.adminPassword,
      caPem: testTls().caPem,
      logger: quietLogger,
    });

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-city-grant-'));
    mosquitto = await Mosquitto.start(dir);
    admin = await mqtt.connectAsync(mosquitto.url, {
      clientId: 'test-dynsec-admin',
      username: mosquitto.adminUser,
      password: mosquitto.adminPassword,
      ca: testTls().caPem,
    });
    await admin.subscribeAsync(`${CONTROL}/response`, { qos: 1 });
  }, 30_000);

  afterAll(async () => {
    await admin?.endAsync();
    await mosquitto?.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('gives an old sign role the city topic on the first start, and sends nothing on the next', async () => {
    const first = access();
    await first.start();
    try {
      await first.signClaimed(SIGN, 'CEN', SECRET);
      // The role as an earlier manager made it: everything but the city topic.
      const removed = await dynsec(
        admin,
        ['subscribeLiteral', 'unsubscribeLiteral'].map((acltype) => ({
          command: 'removeRoleACL',
          rolename: signRoleName(SIGN),
          acltype,
          topic: topics.cityAnnouncement(),
        })),
      );
      expect(removed.map((r) => r.error)).toEqual([undefined, undefined]);
      expect(await cityGrantedToSign(mosquitto.url)).toBe(128);

      // A sign registered but never claimed has no role: skipped, not an error.
      expect(await first.grantCityTopic([SIGN, 'never-claimed'])).toBe(2);
      expect(await cityGrantedToSign(mosquitto.url)).toBe(1);
    } finally {
      await first.stop();
    }

    const second = access();
    await second.start();
    try {
      expect(await second.grantCityTopic([SIGN, 'never-claimed'])).toBe(0);
      expect(await cityGrantedToSign(mosquitto.url)).toBe(1);
    } finally {
      await second.stop();
    }
  });
});
