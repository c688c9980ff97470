/**
 * Messages a test "manager" publishes to a sign, and a sign built from real
 * parts (SQLite cache, MQTT link) around a recording panel.
 */
import type { PoleIo } from '../../device/gpio/poleIo';
import type { Speaker } from '../../device/speech/speaker';
import mqtt, { type MqttClient } from 'mqtt';
import pino, { type Logger } from 'pino';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  encodeMessage,
  topics,
  type AnnouncementData,
  type ArrivalsData,
  type DataInputOf,
  type DeviceConfigData,
  type ScheduleData,
  type TopicKind,
} from '../../shared';
import { SignCache } from '../../device/cache/signCache';
import { loadDeviceConfig, type DeviceConfigOverrides } from '../../device/config';
import { ManagerLink } from '../../device/link/managerLink';
import type { Panel } from '../../device/panel/panel';
import type { BoardView } from '../../device/render/boardView';
import type { IndexedFrame } from '../../device/render/frame';
import type { ScheduledJob, Scheduler } from '../../device/scheduler';
import { Sign } from '../../device/sign';
import { RecordingPanel } from './recordingPanel';

export const DEVICE_ID = 'sign-test-1';
export const STOP_ID = 'stop/42+A';

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

export function configData(overrides: Partial<DeviceConfigData> = {}): DeviceConfigData {
  return {
    deviceId: DEVICE_ID,
    stopId: STOP_ID,
    stopName: { en: 'Harbour Road', zh: '港湾道' },
    timezone: 'Asia/Hong_Kong',
    stopInFeed: true,
    pageSeconds: 5,
    brightness: { day: 80, night: 25, nightStart: '22:00', nightEnd: '06:00' },
    volume: { day: 70, night: 35 },
    chineseScript: 'simplified',
    ...overrides,
  };
}

/** Departures every 10 minutes from `from` (epoch seconds) for the next few hours. */
export function scheduleData(from: number, count = 24): ScheduleData {
  return {
    stopId: STOP_ID,
    stopName: { en: 'Harbour Road', zh: '港湾道' },
    timezone: 'Asia/Hong_Kong',
    validFrom: from - 3600,
    validUntil: from + 86_400,
    departures: Array.from({ length: count }, (_, i) => ({
      tripId: `sched-${i}`,
      routeId: 'R1',
      route: i % 2 === 0 ? '1' : '1A',
      headsign: { en: 'Central', zh: '中環' },
      time: from + 600 * (i + 1),
    })),
  };
}

export function arrivalsData(generatedAt: number, minutes = [2, 7, 12, 20]): ArrivalsData {
  return {
    stopId: STOP_ID,
    generatedAt,
    arrivals: minutes.map((m, i) => ({
      tripId: `live-${i}`,
      routeId: 'R9',
      route: '9',
      headsign: { en: 'Airport', zh: '機場' },
      time: generatedAt + m * 60,
      scheduledTime: generatedAt + m * 60,
      source: 'live' as const,
    })),
  };
}

export function announcement(overrides: Partial<AnnouncementData> = {}): AnnouncementData {
  return {
    announcementId: 'a-1',
    text: { en: 'Road works', zh: '道路工程' },
    priority: 'info',
    expiresAt: nowSeconds() + 3600,
    ...overrides,
  };
}

export const managerOnline = (): DataInputOf<'managerStatus'> => ({
  state: 'online',
  startedAt: nowSeconds(),
  version: 'test',
});

/** Stand-in for the manager: publishes protocol messages, retained by default. */
export class TestManager {
  private constructor(readonly client: MqttClient) {}

  static async connect(url: string, clientId = 'test-manager'): Promise<TestManager> {
    return new TestManager(await mqtt.connectAsync(url, { clientId, reconnectPeriod: 0 }));
  }

  async publish<K extends TopicKind>(
    kind: K,
    topic: string,
    data: DataInputOf<K>,
    retain = true,
  ): Promise<void> {
    await this.client.publishAsync(topic, encodeMessage(kind, data), { qos: 1, retain });
  }

  async raw(topic: string, payload: string | Buffer, retain = false): Promise<void> {
    await this.client.publishAsync(topic, payload, { qos: 1, retain });
  }

  /** Everything a sign at STOP_ID needs to go live. */
  async publishAll(now = nowSeconds()): Promise<void> {
    await this.publish('managerStatus', topics.managerStatus(), managerOnline());
    await this.publish('deviceConfig', topics.deviceConfig(DEVICE_ID), configData());
    await this.publish('stopSchedule', topics.stopSchedule(STOP_ID), scheduleData(now));
    await this.publish('stopArrivals', topics.stopArrivals(STOP_ID), arrivalsData(now));
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

/** Stand-in renderer: distinct views give distinct frames, the clock second does not matter. */
export function testRender(view: BoardView): IndexedFrame {
  const { now: _now, ...rest } = view;
  const bytes = Buffer.from(JSON.stringify(rest));
  const pixels = new Uint8Array(view.width * view.height);
  for (let i = 0; i < bytes.length && i < pixels.length; i++) pixels[i] = (bytes[i] ?? 0) & 0x0f;
  return { width: view.width, height: view.height, pixels };
}

export class ManualScheduler implements Scheduler {
  readonly jobs: { expression: string; task: () => void; stopped: boolean }[] = [];

  schedule(expression: string, task: () => void): ScheduledJob {
    const job = { expression, task, stopped: false };
    this.jobs.push(job);
    return { stop: () => void (job.stopped = true) };
  }

  runAll(): void {
    for (const job of this.jobs) if (!job.stopped) job.task();
  }
}

export function tempDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'stopsign-device-'));
  // A speech player killed mid-utterance leaves its encoder writing a file for a few milliseconds:
  // removal retries on ENOTEMPTY instead of failing the test that just passed.
  return {
    dir,
    remove: () => rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 }),
  };
}

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export function captureLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino(
    { level: 'debug' },
    { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) },
  );
  return { logger, lines };
}

export interface SignUnderTest<P extends Panel = RecordingPanel> {
  sign: Sign;
  panel: P;
  link: ManagerLink;
  cache: SignCache;
  scheduler: ManualScheduler;
  lines: LogLine[];
}

export interface BuildSignOptions {
  brokerUrl: string;
  dataDir: string;
  render?: (view: BoardView) => IndexedFrame;
  toPng?: (frame: IndexedFrame) => Buffer;
  config?: DeviceConfigOverrides;
  poleIo?: PoleIo;
  speaker?: Speaker;
  /** Epoch milliseconds; the real clock unless a test moves time itself. */
  clock?: () => number;
}

export function buildSign(options: BuildSignOptions): SignUnderTest;
export function buildSign<P extends Panel>(
  options: BuildSignOptions & { panel: P },
): SignUnderTest<P>;
export function buildSign(options: BuildSignOptions & { panel?: Panel }): SignUnderTest<Panel> {
  const config = loadDeviceConfig(
    {},
    {
      deviceId: DEVICE_ID,
      brokerUrl: options.brokerUrl,
      dataDir: options.dataDir,
      serialPath: '/dev/null',
      reconnectMinMs: 100,
      reconnectMaxMs: 400,
      frameUploadIntervalSeconds: 1,
      statusIntervalSeconds: 1,
      ...options.config,
    },
  );
  const { logger, lines } = captureLogger();
  const panel = options.panel ?? new RecordingPanel();
  const cache = new SignCache({ path: config.dbPath });
  const scheduler = new ManualScheduler();
  const link = new ManagerLink({
    deviceId: config.deviceId,
    brokerUrl: config.brokerUrl,
    firmwareVersion: config.firmwareVersion,
    startedAt: nowSeconds(),
    reconnectMinMs: config.reconnectMinMs,
    reconnectMaxMs: config.reconnectMaxMs,
    connectTimeoutMs: 2_000,
    logger: logger.child({ part: 'link' }),
  });
  const sign = new Sign({
    config,
    link,
    cache,
    panel,
    logger,
    scheduler,
    clock: options.clock ?? (() => Date.now()),
    render: options.render ?? testRender,
    ...(options.poleIo ? { poleIo: options.poleIo } : {}),
    ...(options.speaker ? { speaker: options.speaker } : {}),
    toPng: options.toPng ?? ((frame) => Buffer.from(frame.pixels.subarray(0, 64))),
  });
  return { sign, panel, link, cache, scheduler, lines };
}

/** Polls until the predicate (sync or async) holds, failing with `what` after the deadline. */
export async function waitFor(
  what: string,
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 5_000,
  intervalMs = 20,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * Whether `shown` is one page of `all`: boards with more departures than rows
 * page through them on the wall clock, so a test cannot know which page is up.
 */
export function isPageOf<T>(shown: T[], all: T[], perPage: number): boolean {
  const same = (a: T[], b: T[]) => JSON.stringify(a) === JSON.stringify(b);
  for (let at = 0; at < Math.max(1, all.length); at += perPage) {
    if (same(shown, all.slice(at, at + perPage))) return true;
  }
  return false;
}
