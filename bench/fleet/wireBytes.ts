/**
 * A sign's mobile data, counted on the wire: signs reach the broker through a
 * loopback TCP relay on its own port, which counts the MQTT bytes (inside TLS) each way,
 * while tcpdump (when installed) captures that port, so IP and TCP headers
 * and bare ACKs count too. A few signs render and upload frames like real ones.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import pino from 'pino';
import { TOPIC_ROOT, topics } from '../../shared';
import { FleetSimulator } from '../../scripts/fleet/fleetSimulator';
import type { SimulatedIdentity } from '../../scripts/fleet/feedStops';
import { RenderingSign } from '../../scripts/fleet/renderingSign';
import { FleetRig, type RigMode } from '../../scripts/fleet/rig';
import { freePort } from '../../scripts/lib/mosquitto';
import mqtt from 'mqtt';
import { sleep, until, type FleetFigure } from './measure';

export interface WireBytesOptions {
  mode: RigMode;
  dir: string;
  timetableDb: string;
  identities: readonly SimulatedIdentity[];
  rendering: number;
  windowSeconds: number;
  publishIntervalSeconds: number;
  figures: FleetFigure[];
  log: (line: string) => void;
  /** Epoch ms the managers' clocks start at (see RigOptions). */
  clockStartMs?: number;
}

/** Relays every connection to the broker and counts what passes. */
class CountingRelay {
  toSigns = 0;
  fromSigns = 0;
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();

  async start(port: number, brokerPort: number): Promise<void> {
    this.server = net.createServer((signSide) => {
      const brokerSide = net.connect(brokerPort, '127.0.0.1');
      this.sockets.add(signSide).add(brokerSide);
      signSide.on('data', (chunk) => (this.fromSigns += chunk.length));
      brokerSide.on('data', (chunk) => (this.toSigns += chunk.length));
      signSide.pipe(brokerSide).pipe(signSide);
      const close = () => {
        signSide.destroy();
        brokerSide.destroy();
      };
      signSide.on('close', close).on('error', close);
      brokerSide.on('close', close).on('error', close);
    });
    await new Promise<void>((resolve) => this.server?.listen(port, '127.0.0.1', resolve));
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

/** tcpdump on loopback for one port, to a pcap file; undefined when tcpdump is not installed. */
async function capture(port: number, file: string): Promise<ChildProcess | undefined> {
  const child = spawn('tcpdump', ['-i', 'lo', '-n', '-s', '96', '-w', file, `tcp port ${port}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const started = await new Promise<boolean>((resolve) => {
    child.once('error', () => resolve(false));
    child.stderr?.once('data', () => resolve(true));
    setTimeout(() => resolve(child.exitCode === null), 3_000);
  });
  return started ? child : undefined;
}

/** IP packets and their bytes (IP header onwards) in a pcap of Linux loopback (Ethernet framing). */
function pcapTotals(file: string): { packets: number; bytes: number } {
  const data = fs.readFileSync(file);
  const little = data.readUInt32LE(0) === 0xa1b2c3d4;
  const u32 = (at: number) => (little ? data.readUInt32LE(at) : data.readUInt32BE(at));
  const linkType = u32(20);
  const linkHeader = linkType === 1 ? 14 : 0;
  let packets = 0;
  let bytes = 0;
  for (let at = 24; at + 16 <= data.length;) {
    const included = u32(at + 8);
    const original = u32(at + 12);
    packets += 1;
    bytes += original - linkHeader;
    at += 16 + included;
  }
  return { packets, bytes };
}

export async function wireBytes(options: WireBytesOptions): Promise<void> {
  const { mode, identities, windowSeconds, log } = options;
  const signs = identities.length;
  const rig = await FleetRig.start({
    mode,
    dir: options.dir,
    identities,
    timetableDb: options.timetableDb,
    env: { STOPSIGN_PUBLISH_INTERVAL_SECONDS: String(options.publishIntervalSeconds) },
    ...(options.clockStartMs !== undefined ? { clockStartMs: options.clockStartMs } : {}),
  });
  const relay = new CountingRelay();
  const logger = pino({ level: 'silent' });
  let dump: ChildProcess | undefined;
  let fleet: FleetSimulator | undefined;
  const rendered: RenderingSign[] = [];
  try {
    const relayPort = await freePort();
    await relay.start(relayPort, Number(new URL(rig.brokerUrl).port));
    // TLS end to end through the relay: the certificate names 127.0.0.1, whatever the port.
    const relayUrl = `${new URL(rig.brokerUrl).protocol}//127.0.0.1:${relayPort}`;
    const credentials = rig.credentials;
    for (const s of identities.slice(0, options.rendering)) {
      rendered.push(
        new RenderingSign({
          deviceId: s.deviceId,
          brokerUrl: relayUrl,
          dataDir: path.join(options.dir, 'signs', s.deviceId),
          statusIntervalSeconds: 60,
          frameUploadIntervalSeconds: 300,
          reconnectMinMs: 1_000,
          reconnectMaxMs: 60_000,
          logger,
          credentials: await credentials(s.deviceId),
          clock: () => rig.now(),
        }),
      );
    }
    fleet = new FleetSimulator({
      brokerUrl: relayUrl,
      identities: identities.slice(options.rendering),
      rampPerSecond: 20,
      logger,
      credentials,
      clockOffsetMs: rig.clockOffsetMs,
    });
    await Promise.all(rendered.map((r) => r.start()));
    await fleet.start();
    const running = fleet;
    await until(
      () =>
        running.counts().live === running.signs.length &&
        rendered.every((r) => r.sign.state().mode === 'live'),
      120_000,
    );
    // Past the first connect, config, slice and first frames: only the steady state counts.
    await sleep(options.publishIntervalSeconds * 1000 + 5_000);
    const pcap = path.join(options.dir, 'signs.pcap');
    dump = await capture(relayPort, pcap);
    await sleep(1_000);
    const [down0, up0] = [relay.toSigns, relay.fromSigns];
    log(`  counting ${signs} signs (${options.rendering} rendering) for ${windowSeconds} s`);
    await sleep(windowSeconds * 1000);
    const [down, up] = [relay.toSigns - down0, relay.fromSigns - up0];
    if (dump) {
      const stopped = new Promise((resolve) => dump?.once('exit', resolve));
      dump.kill('SIGINT');
      await stopped;
    }
    const perDay = (bytes: number) => (bytes / signs / windowSeconds) * 86_400;

    // Boards go out only when they change (here, as timetabled departures pass; no live feed),
    // with a heartbeat every update. Beside it: a board body every update, as if sent blindly,
    // and the offline slice, resent when half of its 30 h is used.
    const bodies = await retainedSizes(rig, identities);
    const arrivalsPerDay = 86_400 / options.publishIntervalSeconds;
    const bareArrivals = bodies.arrivals * arrivalsPerDay;
    const slicesPerDay = 24 / 15;
    const mqttPerDay = perDay(down + up);
    options.figures.push({
      scenario: 'mobile data',
      mode,
      name: `MQTT+TLS bytes per sign per day at ${options.publishIntervalSeconds} s updates`,
      value: mqttPerDay / 1024,
      unit: 'KiB',
      floor: { name: 'a board body every update, sent blindly', value: bareArrivals / 1024 },
    });
    log(
      `  per sign per day: MQTT+TLS ${(mqttPerDay / 1024).toFixed(0)} KiB ` +
        `(down ${(perDay(down) / 1024).toFixed(0)}, up ${(perDay(up) / 1024).toFixed(0)}), ` +
        `arrivals bodies ${(bareArrivals / 1024).toFixed(0)} KiB (${bodies.arrivals.toFixed(0)} B each)`,
    );
    if (dump && fs.existsSync(pcap)) {
      const totals = pcapTotals(pcap);
      const wirePerDay = perDay(totals.bytes);
      options.figures.push({
        scenario: 'mobile data',
        mode,
        name: 'on the wire (IP+TCP+MQTT) per sign per day',
        value: wirePerDay / 1024,
        unit: 'KiB',
        floor: { name: 'MQTT+TLS bytes alone', value: mqttPerDay / 1024 },
      });
      log(
        `  tcpdump: ${totals.packets} packets, ${(wirePerDay / 1024).toFixed(0)} KiB per sign per day`,
      );
    } else {
      log('  tcpdump not available: wire figure is MQTT+TLS bytes only');
    }
    options.figures.push({
      scenario: 'mobile data',
      mode,
      name: 'offline slice resends per sign per day (body bytes)',
      value: (bodies.schedule * slicesPerDay) / 1024,
      unit: 'KiB',
    });
  } finally {
    await fleet?.stop();
    await Promise.all(rendered.map((r) => r.stop()));
    await relay.stop();
    await rig.stop();
  }
}

/** Mean retained body size of the signs' stops' arrivals and schedule topics. */
async function retainedSizes(
  rig: FleetRig,
  identities: readonly SimulatedIdentity[],
): Promise<{ arrivals: number; schedule: number }> {
  const client = await mqtt.connectAsync(rig.brokerUrl, rig.clientOptions('bench-sizes'));
  const sizes = { arrivals: [] as number[], schedule: [] as number[] };
  const stops = [...new Set(identities.map((s) => s.stopId))];
  const arrivalTopics = new Set(stops.map((id) => topics.stopArrivals(id)));
  const scheduleTopics = new Set(stops.map((id) => topics.stopSchedule(id)));
  client.on('message', (topic, payload) => {
    if (arrivalTopics.has(topic)) sizes.arrivals.push(payload.length);
    if (scheduleTopics.has(topic)) sizes.schedule.push(payload.length);
  });
  // Two wildcards, not a topic per stop: the broker caps subscriptions per client.
  await client.subscribeAsync([`${TOPIC_ROOT}/stop/+/arrivals`, `${TOPIC_ROOT}/stop/+/schedule`], {
    qos: 0,
  });
  await sleep(2_000);
  await client.endAsync();
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  // Each sign here is at a stop of its own, so the mean over stops is the mean over signs.
  return { arrivals: mean(sizes.arrivals), schedule: mean(sizes.schedule) };
}
