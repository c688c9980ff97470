/**
 * One command, the whole system on a laptop: the fleet manager with its embedded
 * MQTT broker, one sign, and the sign's LED panel simulated on a socat pty pair.
 *   npm start [-- --gtfs feed.zip --stop STOP_ID --realtime feed.pb --clock-start ISO-INSTANT
 *                 --http-port 8080 --broker-port 1883 --fresh]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { prettyFactory } from 'pino-pretty';
import { STOP_CENTRAL, tinyGtfsZip } from '../tests/helpers/gtfsFixture';
import { openPtyPair } from './lib/ptyPair';

const { values } = parseArgs({
  options: {
    gtfs: { type: 'string' },
    stop: { type: 'string', default: STOP_CENTRAL },
    'device-id': { type: 'string', default: 'demo-sign-1' },
    'http-port': { type: 'string', default: '8080' },
    'broker-port': { type: 'string', default: '1883' },
    dir: { type: 'string', default: 'var/demo' },
    fresh: { type: 'boolean', default: false },
    /** A recorded GTFS-realtime file, pushed to the manager once everything is up. */
    realtime: { type: 'string' },
    /** Run manager and sign on a clock starting at this instant, e.g. a recorded feed's header time. */
    'clock-start': { type: 'string' },
  },
});

const clockEnv: Record<string, string> = values['clock-start']
  ? { STOPSIGN_CLOCK_START: values['clock-start'] }
  : {};

/**
 * The manager's replay clock starts running once it answers; the sign, started
 * later, starts its own clock that much further on, so the two agree (a sign
 * trusts its clock only when it does).
 */
function signClockEnv(managerReadyAtMs: number): Record<string, string> {
  const start = values['clock-start'];
  if (!start) return {};
  const aligned = Date.parse(start) + (Date.now() - managerReadyAtMs);
  return { STOPSIGN_CLOCK_START: new Date(aligned).toISOString() };
}

const root = path.resolve(import.meta.dirname, '..');
const dir = path.resolve(root, values.dir);
const pngPath = path.join(dir, 'panel.png');
const children: ChildProcess[] = [];
// The programs log JSON for machines; a person at a terminal gets one readable line each.
const pretty = prettyFactory({
  colorize: process.stdout.isTTY,
  singleLine: true,
  ignore: 'pid,hostname,name',
});

function readable(line: string): string {
  if (!line.startsWith('{')) return line;
  try {
    return pretty(JSON.parse(line)).trimEnd();
  } catch {
    return line;
  }
}

function run(
  name: string,
  script: string,
  args: string[],
  env: Record<string, string>,
): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, script), ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const prefix = `[${name}] `;
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding('utf8');
    stream?.on('data', (text: string) => {
      for (const line of text.trimEnd().split('\n')) {
        process.stdout.write(prefix + readable(line) + '\n');
      }
    });
  }
  child.on('exit', (code, signal) => stopAll(`${name} exited (${signal ?? `code ${code}`})`));
  children.push(child);
  return child;
}

/**
 * The preferred port, or a free one when it is taken: installing Debian's
 * mosquitto package, for one, starts a broker on 1883.
 */
async function portToUse(preferred: number, what: string): Promise<number> {
  const tryListen = (port: number) =>
    new Promise<number | null>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(null));
      server.listen(port, '127.0.0.1', () => {
        const bound = (server.address() as net.AddressInfo).port;
        server.close(() => resolve(bound));
      });
    });
  const port = (await tryListen(preferred)) ?? (await tryListen(0));
  if (port === null) throw new Error(`no free port for the ${what}`);
  if (port !== preferred) console.log(`port ${preferred} is taken; the ${what} uses ${port}`);
  return port;
}

async function waitForManager(httpUrl: string, deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    try {
      const res = await fetch(`${httpUrl}/api/health`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`manager did not answer at ${httpUrl}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Makes the given timetable the one in force, even over an earlier demo's
 * (forced: the demo sign moves to the new stop right after), and says so.
 */
async function useTimetable(httpUrl: string, gtfsPath: string): Promise<void> {
  const bytes = fs.readFileSync(path.resolve(root, gtfsPath));
  const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 12);
  const source = `${gtfsPath} (sha256 ${hash})`;
  type Summary = { source: string; stops: number; coverageWarnings?: string[] } | null;
  let summary = (await (await fetch(`${httpUrl}/api/gtfs`)).json()) as Summary;
  if (summary?.source === source) {
    console.log(`timetable: ${gtfsPath} (in force, ${summary.stops} stops)`);
  } else {
    const replaced = summary?.source;
    const query = new URLSearchParams({ force: 'true', source });
    const res = await fetch(`${httpUrl}/api/gtfs?${query.toString()}`, {
      method: 'POST',
      headers: { 'content-type': 'application/zip' },
      body: bytes,
    });
    if (!res.ok) throw new Error(`the manager refused ${gtfsPath}: ${await res.text()}`);
    summary = (await (await fetch(`${httpUrl}/api/gtfs`)).json()) as Summary;
    const replacing = replaced ? `, replacing ${replaced}` : '';
    console.log(`timetable: imported ${gtfsPath} (${summary?.stops} stops)${replacing}`);
  }
  for (const warning of summary?.coverageWarnings ?? []) console.log(`  warning: ${warning}`);
}

/** Replays a recorded feed through the same endpoint agencies push to. */
async function pushRealtime(httpUrl: string, file: string): Promise<void> {
  const res = await fetch(`${httpUrl}/api/realtime`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-protobuf' },
    body: fs.readFileSync(file),
  });
  const body = (await res.json()) as { error?: string; accepted?: string[] };
  if (!res.ok) throw new Error(`the manager refused ${file}: ${body.error ?? res.status}`);
  console.log(`realtime: ${path.basename(file)} taken in as ${body.accepted?.join(', ')}`);
}

let stopping = false;
let closePty: (() => Promise<void>) | undefined;
/** A child that has not exited yet; one killed by a signal has a signalCode and no exitCode. */
const running = (c: ChildProcess) => c.exitCode === null && c.signalCode === null;
/** A child ignoring SIGTERM this long is killed outright. */
const KILL_AFTER_MS = 5000;

async function shutdown(code: number): Promise<never> {
  stopping = true;
  const left = children.filter(running);
  for (const child of left) child.kill('SIGTERM');
  const force = setTimeout(() => {
    for (const child of left.filter(running)) child.kill('SIGKILL');
  }, KILL_AFTER_MS);
  await Promise.all(
    left.map((c) =>
      running(c) ? new Promise<void>((r) => c.once('exit', () => r())) : Promise.resolve(),
    ),
  );
  clearTimeout(force);
  await closePty?.();
  process.exit(code);
}

/** Any part ending on its own ends them all: a half-running demo hides what broke. */
function stopAll(reason: string): void {
  if (stopping) return;
  console.error(`${reason}; stopping everything`);
  void shutdown(1);
}
process.once('SIGINT', () => void shutdown(0));
process.once('SIGTERM', () => void shutdown(0));

async function main(): Promise<void> {
  if (values.fresh) fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  let gtfsPath = values.gtfs ? path.resolve(values.gtfs) : path.join(dir, 'tiny-gtfs.zip');
  if (!values.gtfs) fs.writeFileSync(gtfsPath, tinyGtfsZip());
  gtfsPath = path.relative(root, gtfsPath);

  const httpPort = await portToUse(Number(values['http-port']), 'console and API');
  const brokerPort = await portToUse(Number(values['broker-port']), 'MQTT broker');
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  const brokerUrl = `mqtt://127.0.0.1:${brokerPort}`;
  const pty = await openPtyPair(dir);
  closePty = () => pty.close();
  void pty.exited.then((how) => stopAll(`socat exited (${how})`));

  run('manager', 'manager/main.ts', [], {
    STOPSIGN_HTTP_PORT: String(httpPort),
    STOPSIGN_BROKER_PORT: String(brokerPort),
    STOPSIGN_MANAGER_DATA_DIR: path.join(dir, 'manager'),
    STOPSIGN_GTFS_PATH: gtfsPath,
    STOPSIGN_PUBLISH_INTERVAL_SECONDS: '15',
    // Heartbeats every 5 s: the demo sign trusts its clock, and shows countdowns, sooner.
    STOPSIGN_REALTIME_POLL_SECONDS: '5',
    ...clockEnv,
  });
  // A city feed is imported before the manager answers: give it time.
  await waitForManager(httpUrl, 180_000);
  const managerReadyAtMs = Date.now();
  await useTimetable(httpUrl, gtfsPath);

  const res = await fetch(`${httpUrl}/api/signs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ deviceId: values['device-id'], stopId: values.stop, label: 'demo' }),
  });
  if (!res.ok) throw new Error(`could not register the demo sign: ${await res.text()}`);

  run('panel', 'scripts/panel-sim.ts', ['--port', pty.panelPath, '--png', pngPath], {});
  run('sign', 'device/main.ts', [], {
    STOPSIGN_DEVICE_ID: values['device-id'],
    STOPSIGN_BROKER_URL: brokerUrl,
    STOPSIGN_DATA_DIR: path.join(dir, 'sign'),
    STOPSIGN_SERIAL_PATH: pty.devicePath,
    STOPSIGN_FRAME_UPLOAD_INTERVAL_SECONDS: '3',
    ...signClockEnv(managerReadyAtMs),
  });
  if (values.realtime) await pushRealtime(httpUrl, path.resolve(values.realtime));

  const example = JSON.stringify({
    target: { stopId: values.stop },
    text: { en: 'Route 5X diverted via Harbour Road', zh: '5X线改经海港道' },
    priority: 'info',
  });
  console.log(`
stopsign is running
  console and API   ${httpUrl}/
  MQTT broker       ${brokerUrl}
  panel picture     ${path.relative(process.cwd(), pngPath)}   (rewritten on every change)
  sign              ${values['device-id']} at stop ${values.stop}

Post an announcement and watch the panel picture change:
  curl -s -X POST ${httpUrl}/api/announcements -H 'content-type: application/json' -d '${example}'

Ctrl-C stops everything.
`);
}

main().catch((err: unknown) => stopAll(`start failed: ${(err as Error).message}`));
