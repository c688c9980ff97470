/**
 * The largest fleet this machine holds: connect storms of growing size, each
 * until every sign is online in the manager or the deadline passes, with what
 * the broker process had used of each resource when it ended (open files
 * against their limit, memory, CPU) so the one that gave out is named by
 * measurement, not guessed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_BROKER_LIMITS } from '../../manager/broker/brokerLimits';
import { connectionCap } from '../../manager/broker/openFileLimit';
import { fleetIdentities } from '../../scripts/fleet/feedStops';
import { peakRssMiB, processCpuMs } from '../../scripts/fleet/managerProcess';
import { FleetRig, type RigMode } from '../../scripts/fleet/rig';
import { until, wallNow } from './measure';
import { openOnlineCounter } from './onlineCounter';
import { SimWorkers } from './simWorkers';

/** Signs per simulator process: well under the per-process open-file limit. */
const SIGNS_PER_PROCESS = 12_000;

export interface MaxOutcome {
  signs: number;
  held: boolean;
  summary: string;
}

export interface FindMaxOptions {
  mode: RigMode;
  sizes: number[];
  stops: string[];
  timetableDb: string;
  dir: string;
  ramp: number;
  deadlineMs: number;
  log: (line: string) => void;
  /** Epoch ms the managers' clocks start at (see RigOptions). */
  clockStartMs?: number;
}

function openFiles(pid: number): { open: number; limit: number } {
  const open = fs.readdirSync(`/proc/${pid}/fd`).length;
  const limits = fs.readFileSync(`/proc/${pid}/limits`, 'utf8');
  const limit = Number(/Max open files\s+(\d+)/.exec(limits)?.[1] ?? NaN);
  return { open, limit };
}

function ephemeralPorts(): number {
  const [low, high] = fs
    .readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
    .trim()
    .split(/\s+/)
    .map(Number);
  return (high ?? 0) - (low ?? 0) + 1;
}

/** Whether an operator still gets an answer from the manager's API with the fleet connected. */
async function apiAnswer(rig: FleetRig): Promise<string> {
  const t0 = wallNow();
  try {
    const res = await Promise.race([
      rig.api.get('/api/health'),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('no answer within 10 s')), 10_000).unref(),
      ),
    ]);
    await res.body?.cancel();
    return `the API answered ${res.status} in ${(wallNow() - t0).toFixed(0)} ms`;
  } catch (err) {
    return `the API did not answer: ${(err as Error).message}`;
  }
}

export async function findMax(options: FindMaxOptions): Promise<MaxOutcome[]> {
  const outcomes: MaxOutcome[] = [];
  for (const signs of [...options.sizes].sort((a, b) => a - b)) {
    const identities = fleetIdentities(signs, options.stops);
    const dir = path.join(options.dir, String(signs));
    const rig = await FleetRig.start({
      mode: options.mode,
      dir,
      identities,
      timetableDb: options.timetableDb,
      env: { STOPSIGN_PUBLISH_INTERVAL_SECONDS: '60' },
      ...(options.clockStartMs !== undefined ? { clockStartMs: options.clockStartMs } : {}),
    });
    const sim = new SimWorkers(Math.ceil(signs / SIGNS_PER_PROCESS));
    const counter = await openOnlineCounter(rig.storeLocation);
    let outcome: MaxOutcome;
    try {
      const brokerPid = rig.brokerPid;
      const cpu0 = processCpuMs(brokerPid);
      const t0 = wallNow();
      const since = Math.floor(rig.now() / 1000);
      let online = 0;
      let peakFiles = 0;
      await sim.start('signs', rig.simTarget, identities, options.ramp, {});
      const held = await until(
        async () => {
          peakFiles = Math.max(peakFiles, openFiles(brokerPid).open);
          online = await counter.onlineSince(since);
          return online >= signs;
        },
        options.deadlineMs,
        1_000,
      );
      const seconds = (wallNow() - t0) / 1000;
      const api = await apiAnswer(rig);
      const files = openFiles(brokerPid);
      const cpuShare = (processCpuMs(brokerPid) - cpu0) / (seconds * 1000);
      const rss = peakRssMiB(brokerPid);
      const connected = sim.counts().connected;
      const logs = fs
        .readdirSync(dir)
        .filter((f) => f.endsWith('.log'))
        .map((f) => fs.readFileSync(path.join(dir, f), 'utf8'))
        .join('\n');
      const emfile = /EMFILE|too many open files/i.test(logs);
      // The embedded broker stops short of the open-file limit, at its connection cap.
      const cap =
        options.mode === 'embedded'
          ? connectionCap(DEFAULT_BROKER_LIMITS.maxConnections, files.limit)
          : files.limit;
      const atCap = options.mode === 'embedded' && cap < signs && online >= cap - 50;
      const measured =
        `broker process: ${peakFiles} open files at most (limit ${files.limit}` +
        `${options.mode === 'embedded' ? `, connection cap ${cap}` : ''}), ` +
        `peak RSS ${rss.toFixed(0)} MiB, ${(cpuShare * 100).toFixed(0)} % of a core; ` +
        `${connected} connected at the simulator; ${ephemeralPorts()} ephemeral ports; ${api}`;
      const why = held
        ? ''
        : atCap
          ? 'gave out: open files (the broker held its connection cap, kept below the open-file limit)'
          : emfile || peakFiles >= files.limit - 50
            ? 'gave out: open files (the broker process reached its limit)'
            : rss > 0.8 * (os.totalmem() / 2 ** 20)
              ? 'gave out: memory'
              : 'gave out: time (CPU), not a limit: the deadline passed first';
      outcome = {
        signs,
        held,
        summary: held
          ? `held: all online in ${seconds.toFixed(0)} s; ${measured}`
          : `${why}; ${online} of ${signs} online after ${seconds.toFixed(0)} s; ${measured}`,
      };
    } catch (err) {
      outcome = { signs, held: false, summary: `failed: ${(err as Error).message}` };
    } finally {
      await counter.close();
      await sim.stop();
      await rig.stop();
    }
    options.log(`  ${signs}: ${outcome.summary}`);
    outcomes.push(outcome);
    if (!outcome.held) break;
  }
  return outcomes;
}
