/**
 * Rollouts on the real manager (HTTP API, embedded broker, SQLite) over
 * simulated signs that answer offers through the real update topics: a
 * canary with too many failures halts before the next stage, a silent sign
 * is failed at its deadline, retrying only the failed ones finishes the job,
 * and bad bundles are refused on upload with their reason.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { topics, updateAgentUsername, type CreateRolloutRequest } from '../shared';
import type { Rollout } from '../manager/rollout/rolloutModel';
import type { RolloutProgress } from '../manager/rollout/rolloutEngine';
import { waitFor } from './helpers/deviceFixtures';
import { STOP_CENTRAL, STOP_MARKET } from './helpers/gtfsFixture';
import { SimulatedFleet, type AgentCredentials, type Behaviour } from './helpers/simulatedFleet';
import {
  claimFor,
  createSign,
  signMqttOptions,
  startTestManager,
  type RunningManager,
  type SignCredentials,
} from './helpers/system';
import { smallBundle, tamper, testKeys } from './helpers/updateFixtures';

const keys = testKeys();

describe('rollouts', () => {
  let dir: string;
  let manager: RunningManager;
  let bundleId: string;
  let fleet: SimulatedFleet | undefined;
  const signs: SignCredentials[] = [];
  let agents: AgentCredentials[] = [];
  /** Steering a rollout is maintenance work; uploads and new rollouts are the admin's (manager.api). */
  let maintenance: RunningManager['api'];
  const progress = (id: string) => manager.api.json<RolloutProgress>(`/api/rollouts/${id}`);
  const uploadBytes = (bytes: Buffer) =>
    manager.api.request('POST', '/api/bundles', bytes, {
      'content-type': 'application/octet-stream',
    });
  const upload = (file: string) => uploadBytes(fs.readFileSync(file));

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-rollout-'));
    const keysFile = path.join(dir, 'trusted-keys.json');
    fs.writeFileSync(keysFile, JSON.stringify({ keys: [keys.release.entry] }));
    manager = await startTestManager(dir, {
      bundleTrustedKeysFile: keysFile,
      rolloutTickSeconds: 0.2,
    });
    maintenance = manager.api.as(await manager.tokenFor('maintenance'));
    for (let i = 0; i < 50; i += 1) {
      const claim = await createSign(manager, {
        deviceId: `pole-${String(i).padStart(2, '0')}`,
        stopId: i < 25 ? STOP_CENTRAL : STOP_MARKET,
      });
      signs.push(await claimFor(manager, claim));
    }
    agents = signs.map((c) => ({
      deviceId: c.deviceId,
      password: c.mqtt.password,
      caPem: c.mqtt.caPem,
    }));
    const bundle = await smallBundle({ dir, version: '1.1.0', key: keys.release });
    const res = await upload(bundle.path);
    expect(res.status).toBe(201);
    bundleId = ((await res.json()) as { bundleId: string }).bundleId;
  });

  afterEach(async () => {
    await fleet?.stop();
    fleet = undefined;
  });

  afterAll(async () => {
    await manager?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function startRollout(
    behaviour: (index: number) => Behaviour,
    request: Partial<CreateRolloutRequest>,
  ): Promise<Rollout> {
    fleet = new SimulatedFleet(manager.brokerUrl, agents, (_offer, index) => behaviour(index));
    await fleet.start();
    const res = await manager.api.post('/api/rollouts', {
      bundleId,
      target: { all: true },
      ...request,
    });
    expect(res.status).toBe(201);
    return (await res.json()) as Rollout;
  }

  it('refuses bad bundles on upload with the reason, and lists the good one', async () => {
    const stranger = await smallBundle({ dir, version: '1.2.0', key: keys.stranger });
    let res = await upload(stranger.path);
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ reason: 'unknown-key' });
    const good = await smallBundle({
      dir,
      version: '1.3.0',
      key: keys.release,
      name: 'good.bundle',
    });
    res = await upload(tamper(good.path, path.join(dir, 'tampered.bundle')));
    expect(await res.json()).toMatchObject({ reason: 'hash-mismatch' });
    res = await uploadBytes(Buffer.from('not a bundle'));
    expect(await res.json()).toMatchObject({ reason: 'malformed-bundle' });

    const list =
      await maintenance.json<{ bundleId: string; manifest: { version: string } }[]>('/api/bundles');
    expect(list.map((b) => b.manifest.version)).toEqual(['1.1.0']);
    // Signs resume downloads with Range requests, and need no operator's token for the file.
    const partial = await manager.api
      .as(undefined)
      .request('GET', `/api/bundles/${bundleId}/file`, undefined, { range: 'bytes=100-' });
    expect(partial.status).toBe(206);
    expect(partial.headers.get('content-range')).toMatch(/^bytes 100-\d+\/\d+$/);
    expect((await partial.arrayBuffer()).byteLength).toBe(
      Number(partial.headers.get('content-range')?.split('/')[1]) - 100,
    );
  });

  it('halts by itself when 20% of the canary fails, before the next stage; retrying the failed finishes', async () => {
    let failFirst = true;
    const rollout = await startRollout(
      () => {
        if (!failFirst) return 'succeed';
        failFirst = false;
        return 'fail';
      },
      {
        stages: [10, 50, 100],
        failureLimit: { percent: 10 },
        successPercent: 90,
        deadlineSeconds: 60,
      },
    );
    await waitFor(
      'the rollout to halt',
      async () => (await progress(rollout.rolloutId)).rollout.state === 'halted',
      10_000,
    );
    let p = await progress(rollout.rolloutId);
    await waitFor('the canary to settle', async () => {
      p = await progress(rollout.rolloutId);
      return p.stages[0]?.counts.succeeded === 4;
    });
    expect(p.rollout.stage).toBe(0);
    expect(p.rollout.reason).toContain('1 of 5 signs failed');
    expect(p.stages.map((s) => s.signs)).toEqual([5, 20, 25]);
    expect(p.stages[0]?.counts).toMatchObject({ succeeded: 4, failed: 1 });
    // No sign beyond the canary was offered the bundle.
    expect(fleet?.offers).toHaveLength(5);
    const failed = p.signs.find((s) => s.state === 'failed');
    expect(failed).toMatchObject({ reason: 'crashed-at-start', stage: 0 });

    const retry = await maintenance.post(`/api/rollouts/${rollout.rolloutId}/retry-failed`);
    expect(retry.status).toBe(200);
    await waitFor(
      'the rollout to complete',
      async () => (await progress(rollout.rolloutId)).rollout.state === 'completed',
      15_000,
    );
    p = await progress(rollout.rolloutId);
    expect(p.signs.every((s) => s.state === 'succeeded' && s.bootedVersion === '1.1.0')).toBe(true);
    // The failed sign got exactly one more offer; nobody else was offered twice.
    expect(fleet?.offers).toHaveLength(51);
    expect(p.signs.find((s) => s.deviceId === failed?.deviceId)?.attempts).toBe(2);
  });

  it('marks a sign that never answers as failed at its deadline; the rollout still ends', async () => {
    const rollout = await startRollout((index) => (index === 0 ? 'silent' : 'succeed'), {
      target: { deviceIds: ['pole-01', 'pole-02', 'pole-03'] },
      stages: [100],
      failureLimit: { count: 2 },
      successPercent: 60,
      deadlineSeconds: 2,
    });
    await waitFor(
      'the rollout to end',
      async () => (await progress(rollout.rolloutId)).rollout.state === 'completed',
      10_000,
    );
    const p = await progress(rollout.rolloutId);
    const silent = p.signs.find((s) => s.deviceId === fleet?.offers[0]?.deviceId);
    expect(silent).toMatchObject({
      state: 'failed',
      reason: 'deadline',
      detail: 'no outcome within 2 s of the offer',
    });
    expect((silent?.finishedAt ?? 0) - (silent?.offeredAt ?? 0)).toBeGreaterThanOrEqual(2);
    expect(p.stages[0]?.counts).toMatchObject({ succeeded: 2, failed: 1 });
  });

  it('respects the download limit, pauses, resumes and cancels', async () => {
    const rollout = await startRollout(() => 'silent', {
      target: { stopIds: [STOP_MARKET] },
      stages: [100],
      maxConcurrentDownloads: 3,
      failureLimit: { count: 50 },
      deadlineSeconds: 600,
    });
    await waitFor('three offers', () => fleet?.offers.length === 3);
    await new Promise((r) => setTimeout(r, 500));
    expect(fleet?.offers).toHaveLength(3);
    let res = await maintenance.post(`/api/rollouts/${rollout.rolloutId}/pause`);
    expect(((await res.json()) as Rollout).state).toBe('paused');
    res = await maintenance.post(`/api/rollouts/${rollout.rolloutId}/pause`);
    expect(res.status).toBe(409);
    res = await maintenance.post(`/api/rollouts/${rollout.rolloutId}/resume`);
    expect(((await res.json()) as Rollout).state).toBe('running');
    res = await maintenance.post(`/api/rollouts/${rollout.rolloutId}/cancel`);
    expect(((await res.json()) as Rollout).state).toBe('canceled');
    const p = await progress(rollout.rolloutId);
    expect(p.signs.every((s) => s.state === 'canceled')).toBe(true);
    expect(p.signs).toHaveLength(25);
    // Every step is in the audit log, newest first, with who took it; the refused pause is not.
    const audit = (await (
      await manager.api.get(`/api/audit?target=${rollout.rolloutId}`)
    ).json()) as { events: { action: string; actor: string; after: { state: string } }[] };
    expect(audit.events.map((e) => [e.action, e.after.state])).toEqual([
      ['rollout.cancel', 'canceled'],
      ['rollout.resume', 'running'],
      ['rollout.pause', 'paused'],
      ['rollout.create', 'running'],
    ]);
    expect(audit.events[0]?.actor).toMatch(/maintenance/);
  });

  it("lets a sign's update agent in on the sign's secret, beside the sign, to its own update topics only", async () => {
    const [own, other] = signs;
    if (!own || !other) throw new Error('no signs');
    const sign = await mqtt.connectAsync(manager.brokerUrl, signMqttOptions(own));
    const username = updateAgentUsername(own.deviceId);
    const agent = await mqtt.connectAsync(manager.brokerUrl, {
      clientId: username,
      username,
      password: own.mqtt.password,
      ca: own.mqtt.caPem,
      reconnectPeriod: 0,
    });
    try {
      // Its own offers yes; another sign's offers and the sign's own config no (SUBACK 0x80).
      const granted = await agent
        .subscribeAsync(
          [
            topics.deviceUpdateOffer(own.deviceId),
            topics.deviceUpdateOffer(other.deviceId),
            topics.deviceConfig(own.deviceId),
          ],
          { qos: 1 },
        )
        .then((g) => g.map((one) => one.qos))
        // mqtt.js rejects a SUBACK with a refusal in it; the codes are on the packet.
        .catch((err: { packet?: { granted?: number[] } }) => err.packet?.granted ?? []);
      expect(granted).toEqual([1, 128, 128]);
      // The sign's session was not taken over by the agent's.
      expect(sign.connected).toBe(true);
      // A wrong secret for the agent's name is refused like any other.
      await expect(
        mqtt.connectAsync(manager.brokerUrl, {
          clientId: username,
          username,
          password: other.mqtt.password,
          ca: own.mqtt.caPem,
          reconnectPeriod: 0,
        }),
      ).rejects.toThrow();
      // Reporting for another sign closes the agent's connection.
      const closed = new Promise<void>((r) => agent.once('close', () => r()));
      agent.publish(topics.deviceUpdateStatus(other.deviceId), '{}', { qos: 1 });
      await closed;
      expect(sign.connected).toBe(true);
    } finally {
      agent.end(true);
      await sign.endAsync();
    }
  });

  it('refuses a rollout request with every problem listed', async () => {
    const res = await manager.api.post('/api/rollouts', { bundleId, target: {}, stages: [50, 20] });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { detail: string };
    expect(body.detail).toContain('target');
    expect(body.detail).toContain('stages must grow');
  });
});
