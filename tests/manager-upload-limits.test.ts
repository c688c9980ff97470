/**
 * Timetable uploads against a running manager: bombs and oversized uploads are
 * refused with 413 and a reason, a second upload during an import gets 409,
 * and an import that dies (here: out of memory on a 2 GiB bomb let past every
 * limit) ends only the import process. Through all of it the manager and its
 * embedded broker keep serving and the previous timetable stays in force.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import type { Response } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../shared';
import { TINY_COUNTS } from './helpers/gtfsFixture';
import { observerMqttOptions, startTestManager, type RunningManager } from './helpers/system';
import { writeSyntheticCity, writeZipBomb } from './helpers/syntheticFeeds';

const MiB = 1024 * 1024;
let dir: string;
let bomb: string;
let midCity: string;
let smallCity: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-upload-'));
  bomb = path.join(dir, 'bomb.zip');
  writeZipBomb(bomb, 2 * 1024 ** 3);
  midCity = path.join(dir, 'mid-city.zip');
  writeSyntheticCity(midCity, 30_000);
  smallCity = path.join(dir, 'small-city.zip');
  writeSyntheticCity(smallCity, 5_000);
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function upload(
  manager: RunningManager,
  body: Buffer | ReadableStream<Uint8Array>,
): Promise<Response> {
  return manager.api.request('POST', '/api/gtfs', body);
}

async function errorOf(res: Response): Promise<string> {
  return ((await res.json()) as { error: string }).error;
}

/** The timetable in force is still the tiny demo feed, and the API answers. */
async function expectTinyTimetable(manager: RunningManager): Promise<void> {
  const res = await manager.api.get('/api/gtfs');
  expect(res.status).toBe(200);
  expect(await res.json()).toMatchObject({
    stops: TINY_COUNTS.stops,
    stopTimes: TINY_COUNTS.stopTimes,
  });
}

/**
 * The embedded broker lets a client in (TLS, credentials) and carries the
 * manager's next heartbeat to it: MQTT still works end to end.
 */
async function heartbeatThroughBroker(manager: RunningManager): Promise<string> {
  const client = await mqtt.connectAsync(manager.brokerUrl, observerMqttOptions('probe'));
  try {
    const received = new Promise<string>((resolve) =>
      client.once('message', (topic) => resolve(topic)),
    );
    await client.subscribeAsync(topics.managerHeartbeat(), { qos: 1 });
    return await received;
  } finally {
    await client.endAsync(true);
  }
}

describe('timetable uploads within limits', () => {
  let manager: RunningManager;

  beforeAll(async () => {
    fs.mkdirSync(path.join(dir, 'limits'));
    manager = await startTestManager(path.join(dir, 'limits'), { gtfsMaxUploadBytes: 6 * MiB });
  });
  afterAll(async () => manager?.stop());

  it('refuses the 2 GiB bomb with 413 and its ratio', async () => {
    const res = await upload(manager, fs.readFileSync(bomb));
    expect(res.status).toBe(413);
    expect(await errorOf(res)).toMatch(
      /stop_times\.txt would inflate \d+:1 .* refused as a zip bomb/,
    );
    await expectTinyTimetable(manager);
  });

  it('refuses an upload past the size limit, announced or not', async () => {
    const big = Buffer.alloc(7 * MiB, 7);
    const announced = await upload(manager, big);
    expect(announced.status).toBe(413);
    expect(await errorOf(announced)).toBe('the upload is 7 MiB; at most 6 MiB is accepted');
    // Chunked: no length up front, so it is counted as it arrives.
    const chunks = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 7; i++) controller.enqueue(new Uint8Array(MiB));
        controller.close();
      },
    });
    const streamed = await upload(manager, chunks);
    expect(streamed.status).toBe(413);
    expect(await errorOf(streamed)).toBe('the upload passed 6 MiB; at most that is accepted');
    await expectTinyTimetable(manager);
  });

  it('answers 409 to a second upload while one is importing', async () => {
    const first = upload(manager, fs.readFileSync(midCity));
    await new Promise((r) => setTimeout(r, 300));
    const second = await upload(manager, fs.readFileSync(midCity));
    expect(second.status).toBe(409);
    expect(await errorOf(second)).toMatch(/another timetable import is running/);
    const done = await first;
    expect(done.status).toBe(201);
    expect(await done.json()).toMatchObject({ stopTimes: 30_000 });
  }, 120_000);
});

describe('an import that dies', () => {
  let manager: RunningManager;

  beforeAll(async () => {
    // Every limit opened wide and a small heap: the bomb (one trip of 80 million stops)
    // is let in and exhausts the import's memory. 16 MiB is still enough for a real feed
    // (the manager's own timetable at start, and the city after), and it keeps V8's
    // last-ditch collections before it gives up short.
    fs.mkdirSync(path.join(dir, 'open'));
    manager = await startTestManager(path.join(dir, 'open'), {
      gtfsMaxCompressionRatio: 1e6,
      gtfsMaxFileBytes: 4 * 1024 ** 3,
      gtfsMaxTotalBytes: 4 * 1024 ** 3,
      gtfsMaxStopTimes: 1e9,
      gtfsImportHeapMb: 16,
      // A heartbeat every second: what the broker is seen carrying while the import dies.
      realtimePollSeconds: 1,
    });
  });
  afterAll(async () => manager?.stop());

  it('takes only the import down: the manager and its broker keep serving', async () => {
    const pending = upload(manager, fs.readFileSync(bomb));
    // While the import process fills its heap, the manager and the broker answer.
    await new Promise((r) => setTimeout(r, 300));
    await expectTinyTimetable(manager);
    expect(await heartbeatThroughBroker(manager)).toBe(topics.managerHeartbeat());

    const res = await pending;
    expect(res.status).toBe(422);
    expect(await errorOf(res)).toBe(
      'the import ran out of memory (heap limit 16 MiB) and was stopped',
    );
    await expectTinyTimetable(manager);
    expect(await heartbeatThroughBroker(manager)).toBe(topics.managerHeartbeat());
    // The next import runs in a fresh process with the same heap and replaces the timetable.
    const next = await upload(manager, fs.readFileSync(smallCity));
    expect(next.status).toBe(201);
    expect(await next.json()).toMatchObject({ stopTimes: 5_000 });
  }, 90_000);
});

describe('an import past its deadline', () => {
  let manager: RunningManager;
  let hugeCity: string;

  beforeAll(async () => {
    // A million stop times take several seconds to import on any machine, so a
    // one-second deadline always falls inside the import, never after it.
    hugeCity = path.join(dir, 'huge-city.zip');
    writeSyntheticCity(hugeCity, 1_000_000);
    fs.mkdirSync(path.join(dir, 'deadline'));
    // No timetable at start: the deadline is the upload's alone.
    manager = await startTestManager(path.join(dir, 'deadline'), {
      gtfsPath: undefined,
      gtfsMaxImportSeconds: 1,
    });
  }, 60_000);
  afterAll(async () => manager?.stop());

  it('is stopped with 413 and nothing replaces the timetable', async () => {
    const res = await upload(manager, fs.readFileSync(hugeCity));
    expect(res.status).toBe(413);
    expect(await errorOf(res)).toBe('the import took longer than 1 s and was stopped');
    expect(await manager.api.json('/api/gtfs')).toBeNull();
  }, 60_000);
});
