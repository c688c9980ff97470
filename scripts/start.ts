/**
 * One command, the whole system on a laptop: the fleet manager with its embedded
 * MQTT broker, one sign, and the sign's LED panel simulated on a socat pty pair.
 * Security is on as in production: the first admin comes from the operator CLI,
 * and the demo sign is created with the sign CLI and provisions itself by its claim.
 *   npm start [-- --gtfs feed.zip --stop STOP_ID --realtime feed.pb --clock-start ISO-INSTANT
 *                 --http-port 8080 --broker-port 8883 --fresh]
 *             [--panel led-192x64-tricolour | led-128x32-mono | eink-800x480-bw | ...]
 * E-paper profiles run their controller simulated inside the sign process.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { z } from 'zod';
import { prettyFactory } from 'pino-pretty';
import { ManagerApi } from '../manager/cli/managerApi';
import { STOP_CENTRAL, tinyGtfsZip } from '../tests/helpers/gtfsFixture';
import { loadPanelProfile } from '../panels/catalog';
import { DEFAULT_PANEL_PROFILE } from '../shared/panelProfile';
import { openPtyPair } from './lib/ptyPair';

const { values } = parseArgs({
  options: {
    gtfs: { type: 'string' },
    stop: { type: 'string', default: STOP_CENTRAL },
    'device-id': { type: 'string', default: 'demo-sign-1' },
    'http-port': { type: 'string', default: '8080' },
    'broker-port': { type: 'string', default: '8883' },
    dir: { type: 'string', default: 'var/demo' },
    fresh: { type: 'boolean', default: false },
    panel: { type: 'string', default: DEFAULT_PANEL_PROFILE },
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
const truePngPath = path.join(dir, 'panel-true.png');
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

const runFile = promisify(execFile);

/** Runs one of the project's CLIs (the same ones an operator runs) and returns its stdout. */
async function cli(script: string, args: string[], env: Record<string, string>): Promise<string> {
  const { stdout } = await runFile(
    process.execPath,
    ['--import', 'tsx', path.join(root, script), ...args],
    {
      cwd: root,
      env: { ...process.env, ...env },
    },
  );
  return stdout;
}

const demoLogin = z.object({ username: z.string(), password: z.string(), token: z.string() });
type DemoLogin = z.infer<typeof demoLogin>;

/** The demo admin, made once through the operator CLI and kept (mode 0600) for later starts. */
async function ensureDemoAdmin(managerEnv: Record<string, string>): Promise<DemoLogin> {
  const file = path.join(dir, 'login.json');
  if (fs.existsSync(file)) return demoLogin.parse(JSON.parse(fs.readFileSync(file, 'utf8')));
  const created = z
    .object({ password: z.string() })
    .parse(
      JSON.parse(
        await cli(
          'manager/cli/operator.ts',
          ['create', '--username', 'admin', '--role', 'admin', '--json'],
          managerEnv,
        ),
      ),
    );
  const token = z
    .object({ token: z.string() })
    .parse(
      JSON.parse(
        await cli(
          'manager/cli/operator.ts',
          ['token', '--username', 'admin', '--name', 'npm start', '--json'],
          managerEnv,
        ),
      ),
    );
  const login = { username: 'admin', password: created.password, token: token.token };
  fs.writeFileSync(file, JSON.stringify(login, null, 2), { mode: 0o600 });
  return login;
}

async function waitForManager(
  httpUrl: string,
  caFile: string,
  token: string,
  deadlineMs: number,
): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    if (fs.existsSync(caFile)) {
      const api = new ManagerApi(httpUrl, { caPem: fs.readFileSync(caFile, 'utf8'), token });
      try {
        if ((await api.get('/api/health')).ok) return;
      } catch {
        // not listening yet
      } finally {
        await api.close();
      }
    }
    if (Date.now() > deadline) throw new Error(`manager did not answer at ${httpUrl}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The demo sign's claim, through the sign CLI: a new sign, or a new claim for one that lost its disk. */
async function demoSignClaim(
  apiEnv: Record<string, string>,
  deviceId: string,
  stopId: string,
  panelProfile: string,
): Promise<string> {
  const answer = z.object({ claim: z.string() });
  const create = ['create', '--stop', stopId, '--device-id', deviceId, '--label', 'demo'];
  try {
    return answer.parse(
      JSON.parse(
        await cli('manager/cli/sign.ts', [...create, '--panel', panelProfile, '--json'], apiEnv),
      ),
    ).claim;
  } catch {
    return answer.parse(
      JSON.parse(await cli('manager/cli/sign.ts', ['reprovision', deviceId, '--json'], apiEnv)),
    ).claim;
  }
}

/**
 * Makes the given timetable the one in force, even over an earlier demo's
 * (forced: the demo sign moves to the new stop right after), and says so.
 */
async function useTimetable(api: ManagerApi, gtfsPath: string): Promise<void> {
  const bytes = fs.readFileSync(path.resolve(root, gtfsPath));
  const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 12);
  const source = `${gtfsPath} (sha256 ${hash})`;
  type Summary = { source: string; stops: number; coverageWarnings?: string[] } | null;
  let summary = await api.json<Summary>('/api/gtfs');
  if (summary?.source === source) {
    console.log(`timetable: ${gtfsPath} (in force, ${summary.stops} stops)`);
  } else {
    const replaced = summary?.source;
    const query = new URLSearchParams({ force: 'true', source });
    const res = await api.post(`/api/gtfs?${query.toString()}`, bytes);
    if (!res.ok) throw new Error(`the manager refused ${gtfsPath}: ${await res.text()}`);
    summary = await api.json<Summary>('/api/gtfs');
    const replacing = replaced ? `, replacing ${replaced}` : '';
    console.log(`timetable: imported ${gtfsPath} (${summary?.stops} stops)${replacing}`);
  }
  for (const warning of summary?.coverageWarnings ?? []) console.log(`  warning: ${warning}`);
}

/** Replays a recorded feed through the same endpoint agencies push to. */
async function pushRealtime(api: ManagerApi, file: string): Promise<void> {
  const res = await api.request('POST', '/api/realtime', fs.readFileSync(file), {
    'content-type': 'application/x-protobuf',
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
  const httpUrl = `https://127.0.0.1:${httpPort}`;
  const brokerUrl = `mqtts://127.0.0.1:${brokerPort}`;
  const managerDir = path.join(dir, 'manager');
  const caFile = path.join(managerDir, 'tls', 'ca.pem');
  const signDir = path.join(dir, 'sign');
  const deviceId = values['device-id'];
  const profile = loadPanelProfile(values.panel, path.join(root, 'panels', 'profiles'));
  const eink = profile.kind === 'eink';
  const pty = eink ? null : await openPtyPair(dir);
  closePty = () => pty?.close() ?? Promise.resolve();
  // Any part ending on its own ends them all, socat included.
  void pty?.exited.then((how) => stopAll(`socat exited (${how})`));

  const managerEnv = {
    STOPSIGN_HTTP_PORT: String(httpPort),
    STOPSIGN_BROKER_PORT: String(brokerPort),
    STOPSIGN_MANAGER_DATA_DIR: managerDir,
    STOPSIGN_PUBLIC_HOST: '127.0.0.1',
    STOPSIGN_GTFS_PATH: gtfsPath,
    STOPSIGN_PUBLISH_INTERVAL_SECONDS: '15',
    // Heartbeats every 5 s: the demo sign trusts its clock, and shows countdowns, sooner.
    STOPSIGN_REALTIME_POLL_SECONDS: '5',
    ...clockEnv,
  };
  const login = await ensureDemoAdmin(managerEnv);
  run('manager', 'manager/main.ts', [], managerEnv);
  // A city feed is imported before the manager answers: give it time.
  await waitForManager(httpUrl, caFile, login.token, 180_000);
  const managerReadyAtMs = Date.now();
  const api = new ManagerApi(httpUrl, {
    caPem: fs.readFileSync(caFile, 'utf8'),
    token: login.token,
  });
  await useTimetable(api, gtfsPath);

  // A sign that has its credentials keeps them; otherwise it gets a claim, as an installer would give it.
  const provisioned = fs.existsSync(path.join(signDir, 'credentials.json'));
  const apiEnv = {
    STOPSIGN_API_URL: httpUrl,
    STOPSIGN_API_TOKEN: login.token,
    STOPSIGN_API_CA_FILE: caFile,
  };
  const claim = provisioned
    ? undefined
    : await demoSignClaim(apiEnv, deviceId, values.stop, profile.id);
  // A demo started on another feed's stop or another panel moves there (the sign's config follows).
  const placed = await api.post('/api/signs', {
    deviceId,
    stopId: values.stop,
    label: 'demo',
    panelProfile: profile.id,
  });
  if (!placed.ok) throw new Error(`could not place the demo sign: ${await placed.text()}`);

  if (pty) {
    const size = ['--width', String(profile.width), '--height', String(profile.height)];
    const pictures = ['--png', pngPath, '--true-png', truePngPath];
    run('panel', 'scripts/panel-sim.ts', ['--port', pty.panelPath, ...pictures, ...size], {});
  }
  run('sign', 'device/main.ts', [], {
    STOPSIGN_DATA_DIR: signDir,
    STOPSIGN_PANEL_PROFILE: profile.id,
    ...(pty ? { STOPSIGN_SERIAL_PATH: pty.devicePath } : { STOPSIGN_EINK_SIMULATOR_PNG: pngPath }),
    STOPSIGN_FRAME_UPLOAD_INTERVAL_SECONDS: '3',
    ...(claim ? { STOPSIGN_CLAIM: claim } : {}),
    ...signClockEnv(managerReadyAtMs),
  });
  if (values.realtime) await pushRealtime(api, path.resolve(values.realtime));
  await api.close();

  const example = JSON.stringify({
    target: { stopId: values.stop },
    text: { en: 'Route 5X diverted via Harbour Road', zh: '5X线改经海港道' },
    priority: 'info',
  });
  const cacert = path.relative(process.cwd(), caFile);
  console.log(`
stopsign is running
  console and API   ${httpUrl}/   (certificate from the manager's own CA: ${cacert})
  log in as         ${login.username} / ${login.password}   (kept in ${path.relative(process.cwd(), path.join(dir, 'login.json'))})
  MQTT broker       ${brokerUrl}   (TLS; every client authenticates)
  panel picture     ${path.relative(process.cwd(), pngPath)}   (rewritten on every change${pty ? `; true size: ${path.relative(process.cwd(), truePngPath)}` : ''})
  sign              ${deviceId} at stop ${values.stop}, panel ${profile.id}${claim ? ', provisioning itself by its claim' : ''}

Post an announcement with the demo API token and watch the panel picture change:
  curl -s --cacert ${cacert} -X POST ${httpUrl}/api/announcements \\
    -H 'authorization: Bearer ${login.token}' \\
    -H 'content-type: application/json' -d '${example}'

Ctrl-C stops everything.
`);
}

main().catch((err: unknown) => stopAll(`start failed: ${(err as Error).message}`));
