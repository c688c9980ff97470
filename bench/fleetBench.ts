/**
 * npm run bench:fleet: the fleet at city scale, embedded (aedes + SQLite in
 * the manager) and external (Mosquitto + PostgreSQL), every figure beside its
 * floor from the same run. Results go to var/bench/fleet/<time>/ as
 * results.md, results.json and chart.svg.
 *
 *   npm run bench:fleet -- [--signs 10000] [--modes embedded,external]
 *     [--scenarios storm,fanout,emergency,restart,data] [--ramp 1000]
 *     [--processes 1] [--deadline-minutes 15] [--data-window 300]
 *     [--find-max 12000,16000,19000,19900] [--clock-start 2025-11-12T08:00:00-04:00 | now]
 *     [--keep-scratch]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseClockStart } from '../shared';
import { boardingStops, fleetIdentities } from '../scripts/fleet/feedStops';
import { buildTimetable, FleetRig, type RigMode } from '../scripts/fleet/rig';
import { findMax } from './fleet/findMax';
import type { FleetFigure } from './fleet/measure';
import { writeResults } from './fleet/report';
import {
  brokerRestart,
  connectStorm,
  emergency,
  fanOut,
  type ScenarioContext,
} from './fleet/scenarios';
import { SimWorkers } from './fleet/simWorkers';
import { Watcher } from './fleet/watcher';
import { wireBytes } from './fleet/wireBytes';

const FEED = path.resolve(
  import.meta.dirname,
  '..',
  '..',
  'shared',
  'data',
  'gtfs',
  'halifax-2025.zip',
);
const PUBLISH_INTERVAL_SECONDS = 60;
/**
 * A weekday morning inside the feed's service (it runs to 2025-11-16): the
 * managers and signs run on a clock starting here, so boards carry real
 * departures and message sizes are those of a working day.
 */
const DEFAULT_CLOCK_START = '2025-11-12T08:00:00-04:00';

export interface FleetBenchOptions {
  signs: number;
  modes: RigMode[];
  scenarios: string[];
  ramp: number;
  processes: number;
  deadlineMinutes: number;
  dataWindowSeconds: number;
  findMax: number[];
  out: string;
  /** Epoch ms the managers' and signs' clocks start at; undefined runs on the wall clock. */
  clockStartMs?: number | undefined;
  /** Keep the managers' data and logs (and Mosquitto's notices) after the run, for looking into a failure. */
  keepScratch?: boolean;
}

export async function benchFleet(options: FleetBenchOptions): Promise<FleetFigure[] | undefined> {
  if (!fs.existsSync(FEED)) {
    console.log(`\n(fleet figures skipped: the Halifax feed is not at ${FEED})`);
    return undefined;
  }
  const startedAt = new Date().toISOString();
  const outDir = path.resolve(options.out, startedAt.replace(/[:.]/g, '-'));
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-fleet-'));
  const log = (line: string) => console.log(line);
  const figures: FleetFigure[] = [];
  const notes: string[] = [];
  try {
    const cache = path.resolve(options.out, 'timetable');
    fs.mkdirSync(cache, { recursive: true });
    const timetableDb = await buildTimetable(FEED, cache);
    const stops = boardingStops(FEED);
    const identities = fleetIdentities(options.signs, stops);
    const stopIds = [...new Set(identities.map((s) => s.stopId))];
    console.log(
      `\n## Fleet: ${options.signs} signs on ${stopIds.length} Halifax stops, ` +
        `${os.cpus().length} cores, load ${os
          .loadavg()
          .map((l) => l.toFixed(1))
          .join('/')}`,
    );
    const wanted = (s: string) => options.scenarios.includes(s);
    const clock = options.clockStartMs !== undefined ? { clockStartMs: options.clockStartMs } : {};

    for (const mode of options.modes) {
      if (!['storm', 'fanout', 'emergency', 'restart'].some(wanted)) break;
      log(`\n### ${mode}`);
      const rig = await FleetRig.start({
        mode,
        dir: path.join(scratch, mode),
        identities,
        timetableDb,
        env: { STOPSIGN_PUBLISH_INTERVAL_SECONDS: String(PUBLISH_INTERVAL_SECONDS) },
        ...clock,
        brokerLog: options.keepScratch === true,
      });
      const watcher = new Watcher();
      const sim = new SimWorkers(options.processes);
      try {
        await watcher.start(rig.brokerUrl, rig.clientOptions('bench-watcher'));
        const ctx: ScenarioContext = {
          mode,
          rig,
          sim,
          newWorkers: () => new SimWorkers(options.processes),
          identities,
          stopIds,
          watcher,
          publishIntervalSeconds: PUBLISH_INTERVAL_SECONDS,
          rampPerSecond: options.ramp,
          deadlineMs: options.deadlineMinutes * 60_000,
          figures,
          log,
        };
        // The storm starts the signs the other scenarios use.
        await connectStorm(ctx);
        if (wanted('fanout')) await fanOut(ctx);
        if (wanted('emergency')) await emergency(ctx);
        if (wanted('restart')) await brokerRestart(ctx);
      } catch (err) {
        notes.push(`${mode}: stopped early: ${(err as Error).message}`);
        log(`  stopped early: ${(err as Error).message}`);
      } finally {
        await sim.stop();
        await watcher.stop();
        await rig.stop();
      }
    }

    if (wanted('data')) {
      for (const mode of options.modes) {
        log(`\n### mobile data, ${mode}`);
        await wireBytes({
          mode,
          dir: path.join(scratch, `data-${mode}`),
          timetableDb,
          identities: fleetIdentities(24, stops, 'data'),
          rendering: 4,
          windowSeconds: options.dataWindowSeconds,
          publishIntervalSeconds: 20,
          figures,
          log,
          ...clock,
        });
      }
    }

    if (options.findMax.length > 0) {
      for (const mode of options.modes) {
        log(`\n### largest fleet, ${mode}`);
        const outcomes = await findMax({
          mode,
          sizes: options.findMax,
          stops,
          timetableDb,
          dir: path.join(scratch, `max-${mode}`),
          ramp: options.ramp,
          deadlineMs: options.deadlineMinutes * 60_000,
          log,
          ...clock,
        });
        for (const o of outcomes) notes.push(`${mode}, ${o.signs} signs: ${o.summary}`);
      }
    }
  } finally {
    if (options.keepScratch) console.log(`\nmanagers' data and logs kept in ${scratch}`);
    else fs.rmSync(scratch, { recursive: true, force: true });
  }
  const written = writeResults(outDir, figures, {
    startedAt,
    signs: options.signs,
    stops: Math.min(options.signs, 2386),
    host: `${os.cpus().length} cores ${os.cpus()[0]?.model ?? ''}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`,
    loadAverage: os.loadavg(),
    notes,
  });
  console.log(`\nresults: ${written.markdown}\nchart:   ${written.svg}`);
  return figures;
}

function list(text: string | undefined): string[] {
  return (text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      signs: { type: 'string', default: '10000' },
      modes: { type: 'string', default: 'embedded,external' },
      scenarios: { type: 'string', default: 'storm,fanout,emergency,restart,data' },
      ramp: { type: 'string', default: '1000' },
      processes: { type: 'string', default: '1' },
      'deadline-minutes': { type: 'string', default: '15' },
      'data-window': { type: 'string', default: '300' },
      'find-max': { type: 'string' },
      out: { type: 'string', default: 'var/bench/fleet' },
      /** An ISO instant with a zone, or "now" for the wall clock. */
      'clock-start': { type: 'string', default: DEFAULT_CLOCK_START },
      'keep-scratch': { type: 'boolean', default: false },
    },
  });
  const clockStart =
    values['clock-start'] === 'now' ? undefined : parseClockStart(values['clock-start']);
  if (typeof clockStart === 'string') {
    console.error(`--clock-start: ${clockStart}`);
    process.exit(2);
  }
  const modes = list(values.modes).filter(
    (m): m is RigMode => m === 'embedded' || m === 'external',
  );
  await benchFleet({
    signs: Math.min(25_000, Math.max(1, Number(values.signs))),
    modes,
    scenarios: list(values.scenarios),
    ramp: Number(values.ramp),
    processes: Math.max(1, Number(values.processes)),
    deadlineMinutes: Number(values['deadline-minutes']),
    dataWindowSeconds: Number(values['data-window']),
    findMax: list(values['find-max']).map(Number),
    out: values.out,
    clockStartMs: clockStart,
    keepScratch: values['keep-scratch'],
  });
  process.exit(0);
}
