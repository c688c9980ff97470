/**
 * A fleet simulator process driven by the benchmark over IPC: the signs live
 * here, apart from the process that measures them, and several of these share
 * a fleet larger than one process may hold file descriptors for.
 */
import pino from 'pino';
import { credentialsFromFile } from '../../scripts/fleet/credentials';
import { FleetSimulator } from '../../scripts/fleet/fleetSimulator';
import type { SimulatedSign } from '../../scripts/fleet/simulatedSign';
import { BareClients } from './bareClients';
import type { FromWorker, MarkKind, ToWorker } from './simProtocol';

const send = (message: FromWorker): void => {
  process.send?.(message);
};

let fleet: FleetSimulator | undefined;
let bare: BareClients | undefined;
const indexOf = new Map<string, number>();
const zero = { signs: 0, connected: 0, configured: 0, withSchedule: 0, withArrivals: 0, live: 0 };
const marks = new Map<MarkKind, Float64Array>();
let ticker: NodeJS.Timeout | undefined;

function record(sign: SimulatedSign, kind: MarkKind, at: number): void {
  const times = marks.get(kind);
  const index = indexOf.get(sign.deviceId);
  if (!times || index === undefined || !Number.isNaN(times[index])) return;
  times[index] = at;
}

async function handle(message: ToWorker): Promise<void> {
  switch (message.cmd) {
    case 'start': {
      const { target } = message;
      const credentials = credentialsFromFile(target.credentialsFile, target.caPem);
      if (message.bare) {
        const clients = new BareClients(target.brokerUrl, credentials);
        bare = clients;
        const size = message.identities.length;
        ticker = setInterval(() => {
          send({
            type: 'counts',
            counts: { ...zero, signs: size, connected: clients.connected },
            rssMiB: process.memoryUsage.rss() / 2 ** 20,
          });
        }, 250);
        await clients.start(message.identities, message.rampPerSecond);
        send({ type: 'started' });
        return;
      }
      message.identities.forEach((s, i) => indexOf.set(s.deviceId, i));
      fleet = new FleetSimulator({
        brokerUrl: target.brokerUrl,
        identities: message.identities,
        credentials,
        rampPerSecond: message.rampPerSecond,
        logger: pino({ level: 'silent' }),
        timing: message.timing,
        ...(target.clockOffsetMs ? { clockOffsetMs: target.clockOffsetMs } : {}),
        observer: {
          connection: (sign, connected, at) => {
            if (connected) record(sign, 'connected', at);
          },
          received: (sign, kind, at) => record(sign, kind, at),
        },
      });
      const running = fleet;
      ticker = setInterval(() => {
        send({
          type: 'counts',
          counts: running.counts(),
          rssMiB: process.memoryUsage.rss() / 2 ** 20,
        });
      }, 250);
      await running.start();
      send({ type: 'started' });
      return;
    }
    case 'mark':
      for (const kind of message.kinds) {
        marks.set(kind, new Float64Array(indexOf.size).fill(Number.NaN));
      }
      return;
    case 'collect': {
      const times = marks.get(message.kind);
      send({
        type: 'collected',
        requestId: message.requestId,
        times: times ? Array.from(times) : [],
      });
      return;
    }
    case 'inspect': {
      const wanted = new Set(message.deviceIds);
      const signs = (fleet?.signs ?? [])
        .filter((sign) => wanted.has(sign.deviceId))
        .map((sign) => ({
          deviceId: sign.deviceId,
          connected: sign.connected,
          stopId: sign.stopId,
          announcements: Object.fromEntries(sign.announcements),
        }));
      send({ type: 'inspected', requestId: message.requestId, signs });
      return;
    }
    case 'drop':
      fleet?.dropShare(message.share);
      return;
    case 'stop':
      if (ticker) clearInterval(ticker);
      await fleet?.stop();
      await bare?.stop();
      send({ type: 'stopped' });
      setTimeout(() => process.exit(0), 100);
      return;
  }
}

process.on('message', (message: ToWorker) => {
  handle(message).catch((err: unknown) => send({ type: 'failed', error: (err as Error).message }));
});
// Orphaned (the benchmark died): go too, rather than keep thousands of connections open.
process.on('disconnect', () => process.exit(0));
