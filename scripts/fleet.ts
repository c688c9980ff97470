/**
 * The fleet simulator: N signs as real MQTT clients, each with its own
 * identity and a stop of a real feed, speaking the device protocol.
 *
 *   npm run fleet -- --signs 2000 [--broker embedded|mosquitto|mqtt://127.0.0.1:1883]
 *     [--ramp 500] [--duration 120] [--drop 0.2@40] [--restart-broker-at 80]
 *     [--feed ../shared/data/gtfs/halifax-2025.zip] [--credentials creds.json --ca ca.pem]
 *     [--rendering 2] [--status-seconds 60] [--dir var/fleet]
 *
 * With `embedded` or `mosquitto` it starts the system itself (manager process,
 * broker, and for mosquitto PostgreSQL, all over TLS) with the signs
 * registered and given credentials; with a URL it only runs the signs,
 * against a broker and manager already running, with the credentials the
 * signs were provisioned with (`--credentials`: deviceId → username and
 * password) and the CA they pin (`--ca`). Everything stops after --duration
 * seconds. Loopback only, at most 25,000 signs.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { anonymous, credentialsFromFile } from './fleet/credentials';
import { boardingStops, fleetIdentities } from './fleet/feedStops';
import { FleetSimulator, MAX_SIGNS_PER_PROCESS } from './fleet/fleetSimulator';
import { RenderingSign } from './fleet/renderingSign';
import { buildTimetable, FleetRig } from './fleet/rig';

const MAX_DURATION_SECONDS = 3600;

const { values } = parseArgs({
  options: {
    signs: { type: 'string' },
    broker: { type: 'string', default: 'embedded' },
    ramp: { type: 'string', default: '500' },
    duration: { type: 'string', default: '120' },
    drop: { type: 'string' },
    'restart-broker-at': { type: 'string' },
    feed: { type: 'string', default: '../shared/data/gtfs/halifax-2025.zip' },
    credentials: { type: 'string' },
    ca: { type: 'string' },
    rendering: { type: 'string', default: '0' },
    'status-seconds': { type: 'string', default: '60' },
    dir: { type: 'string', default: 'var/fleet' },
  },
});

function number(name: string, text: string | undefined, min: number, max: number): number {
  const value = Number(text);
  if (text === undefined || !Number.isFinite(value) || value < min || value > max) {
    throw new Error(`--${name} must be a number from ${min} to ${max} (got ${text ?? 'nothing'})`);
  }
  return value;
}

/** "0.2@40": cut 20 % of the connections 40 s into the run. */
function parseDrop(text: string | undefined): { share: number; atSeconds: number } | undefined {
  if (text === undefined) return undefined;
  const [share, at] = text.split('@');
  return {
    share: number('drop share', share, 0, 1),
    atSeconds: number('drop time', at ?? '30', 0, MAX_DURATION_SECONDS),
  };
}

async function main(): Promise<void> {
  const signs = number('signs', values.signs, 1, MAX_SIGNS_PER_PROCESS);
  const ramp = number('ramp', values.ramp, 1, 100_000);
  const duration = number('duration', values.duration, 1, MAX_DURATION_SECONDS);
  const rendering = number('rendering', values.rendering, 0, Math.min(50, signs));
  const statusSeconds = number('status-seconds', values['status-seconds'], 1, 86_400);
  const drop = parseDrop(values.drop);
  const restartAt =
    values['restart-broker-at'] === undefined
      ? undefined
      : number('restart-broker-at', values['restart-broker-at'], 0, MAX_DURATION_SECONDS);
  if (!fs.existsSync(values.feed)) throw new Error(`no feed at ${values.feed} (--feed)`);
  const identities = fleetIdentities(signs, boardingStops(values.feed));
  const logger = pino({ level: 'silent' });
  const dir = path.resolve(values.dir, `run-${new Date().toISOString().replace(/[:.]/g, '-')}`);

  let rig: FleetRig | undefined;
  let brokerUrl: string;
  if (values.broker === 'embedded' || values.broker === 'mosquitto') {
    const cache = path.resolve(values.dir, 'timetable', path.basename(values.feed));
    fs.mkdirSync(cache, { recursive: true });
    console.log(`timetable from ${values.feed} (built once into ${cache})`);
    const timetableDb = await buildTimetable(values.feed, cache);
    console.log(
      `starting the ${values.broker === 'embedded' ? 'embedded' : 'external'} system in ${dir}`,
    );
    rig = await FleetRig.start({
      mode: values.broker === 'embedded' ? 'embedded' : 'external',
      dir,
      identities,
      timetableDb,
    });
    brokerUrl = rig.brokerUrl;
    console.log(`manager ${rig.httpUrl}, broker ${brokerUrl}`);
  } else {
    brokerUrl = values.broker;
    if (restartAt !== undefined) throw new Error('--restart-broker-at needs a broker this started');
  }

  const ca = values.ca ? fs.readFileSync(values.ca, 'utf8') : undefined;
  const credentials = values.credentials
    ? credentialsFromFile(values.credentials, ca)
    : (rig?.credentials ?? anonymous);
  const full = identities.slice(0, rendering);
  const rendered = await Promise.all(
    full.map(
      async (s) =>
        new RenderingSign({
          deviceId: s.deviceId,
          brokerUrl,
          dataDir: path.join(dir, 'signs', s.deviceId),
          statusIntervalSeconds: statusSeconds,
          frameUploadIntervalSeconds: 300,
          reconnectMinMs: 1_000,
          reconnectMaxMs: 60_000,
          logger,
          credentials: await credentials(s.deviceId),
        }),
    ),
  );
  const fleet = new FleetSimulator({
    brokerUrl,
    identities: identities.slice(rendering),
    rampPerSecond: ramp,
    logger,
    credentials,
    timing: { statusIntervalMs: statusSeconds * 1000 },
  });

  const began = Date.now();
  const elapsed = () => ((Date.now() - began) / 1000).toFixed(1).padStart(6);
  const report = () => {
    const c = fleet.counts();
    const renderedLive = rendered.filter((r) => r.sign.state().mode === 'live').length;
    console.log(
      `${elapsed()} s  started ${c.signs + rendered.length}  connected ${c.connected}  ` +
        `configured ${c.configured}  slice ${c.withSchedule}  arrivals ${c.withArrivals}  ` +
        `live ${c.live + renderedLive}`,
    );
  };
  const ticker = setInterval(report, 5_000);
  const timers: NodeJS.Timeout[] = [];
  if (drop) {
    timers.push(
      setTimeout(() => {
        const cut =
          fleet.dropShare(drop.share) +
          rendered.filter((r) => Math.random() < drop.share && r.cut()).length;
        console.log(`${elapsed()} s  cut ${cut} connections without a DISCONNECT`);
      }, drop.atSeconds * 1000),
    );
  }
  if (restartAt !== undefined && rig) {
    const running = rig;
    timers.push(
      setTimeout(() => {
        console.log(`${elapsed()} s  restarting the broker`);
        running.restartBroker().then(
          () => console.log(`${elapsed()} s  broker back`),
          (err: Error) => console.log(`broker restart failed: ${err.message}`),
        );
      }, restartAt * 1000),
    );
  }

  let stopping = false;
  const finish = async (why: string) => {
    if (stopping) return;
    stopping = true;
    clearInterval(ticker);
    for (const t of timers) clearTimeout(t);
    report();
    console.log(`stopping (${why})`);
    await fleet.stop();
    await Promise.all(rendered.map((r) => r.stop()));
    await rig?.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void finish('interrupted'));
  setTimeout(() => void finish(`${duration} s are up`), duration * 1000);
  await Promise.all(rendered.map((r) => r.start()));
  await fleet.start();
  console.log(`${elapsed()} s  all ${signs} signs started (${os.cpus().length} cores here)`);
}

main().catch((err: unknown) => {
  console.error((err as Error).message);
  process.exit(1);
});
