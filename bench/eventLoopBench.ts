/**
 * The manager's event loop while it imports a 10-million-row feed and while it
 * answers departure queries on it (perf_hooks.monitorEventLoopDelay), with its
 * RSS beside. The manager runs in this process; the feed is generated here.
 *   STOPSIGN_BENCH_BIG=1 tsx bench/eventLoopBench.ts [rows]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { Agent } from 'undici';
import { ManagerApi } from '../manager/cli/managerApi';
import type { ScheduledDeparture } from '../shared';
import { DepartureWorker } from '../manager/gtfs/departureWorker';
import { GtfsStore } from '../manager/gtfs/gtfsStore';
import { openTimetableDatabase } from '../manager/timetable/timetableDatabase';
import { SYNTHETIC_HUB, writeSyntheticCity } from '../tests/helpers/syntheticFeeds';
import { startTestManager } from '../tests/helpers/system';
import { printFigures, type Figure } from './measure';

/** Streams the zip to POST /api/gtfs as the admin; resolves with the status. */
async function post(api: ManagerApi, file: string): Promise<number> {
  const body = Readable.toWeb(fs.createReadStream(file)) as ReadableStream<Uint8Array>;
  const res = await api.request('POST', '/api/gtfs', body, {
    'content-length': String(fs.statSync(file).size),
  });
  await res.arrayBuffer();
  return res.status;
}

type Ask = (
  stopId: string,
  from: number,
  until: number,
  limit: number,
) => Promise<ScheduledDeparture[]>;

/**
 * The hub's 30-hour slice five times, then each stop's next departures, as the
 * publisher asks them; the event loop watched throughout, turning between queries.
 */
async function queryLoad(stops: string[], now: number, ask: Ask) {
  const loop = monitorEventLoopDelay({ resolution: 1 });
  let worstQuery = 0;
  const time = async (query: () => Promise<unknown>) => {
    const t = performance.now();
    await query();
    worstQuery = Math.max(worstQuery, performance.now() - t);
    await new Promise((r) => setImmediate(r));
  };
  const started = performance.now();
  loop.enable();
  for (let i = 0; i < 5; i++) await time(() => ask(SYNTHETIC_HUB, now, now + 30 * 3600, 5000));
  for (const stopId of stops) await time(() => ask(stopId, now, now + 3 * 3600, 8));
  loop.disable();
  return {
    worstQuery,
    worstBlock: loop.max / 1e6,
    p99: loop.percentile(99) / 1e6,
    wallMs: performance.now() - started,
  };
}

/** The loop turning with nothing to do for `ms`: what other load on the machine alone costs. */
async function idleLoop(ms: number) {
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const started = performance.now();
  while (performance.now() - started < ms) await new Promise((r) => setImmediate(r));
  loop.disable();
  return { worstBlock: loop.max / 1e6 };
}

export async function benchEventLoop(rows = 10_000_000): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-loop-bench-'));
  const figures: Figure[] = [];
  try {
    const zip = path.join(dir, 'city.zip');
    const generated = performance.now();
    const city = writeSyntheticCity(zip, rows);
    console.log(
      `(generated ${city.stopTimes} stop_times in ${((performance.now() - generated) / 1000).toFixed(0)} s)`,
    );
    // HTTPS with the test CA and an admin's token, as every client of the manager.
    const running = await startTestManager(dir, {
      dataDir: path.join(dir, 'm'),
      // The figure is the import's time on a shared machine, not the deadline's.
      gtfsMaxImportSeconds: 3 * 3600,
    });

    const loop = monitorEventLoopDelay({ resolution: 10 });
    let peak = process.memoryUsage.rss();
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 50);
    const baseRss = process.memoryUsage.rss();
    loop.enable();
    const started = performance.now();
    // A 10M-row import answers after many minutes: no header or body timeout on this client.
    const patient = new ManagerApi(
      running.httpUrl,
      { caPem: running.caPem, token: await running.tokenFor('admin') },
      new Agent({ connect: { ca: running.caPem }, headersTimeout: 0, bodyTimeout: 0 }),
    );
    const status = await post(patient, zip);
    await patient.close();
    const importMs = performance.now() - started;
    loop.disable();
    clearInterval(sampler);
    figures.push(
      {
        name: `${rows / 1e6}M stop_times upload and import (HTTP ${status})`,
        value: importMs / 1000,
        unit: 's',
      },
      {
        name: 'manager peak RSS during the import',
        value: peak / 2 ** 20,
        unit: 'MiB',
        baseline: { name: 'before it', value: baseRss / 2 ** 20 },
      },
      {
        name: 'worst event-loop block during the import',
        value: loop.max / 1e6,
        unit: 'ms',
        baseline: { name: 'p99', value: loop.percentile(99) / 1e6 },
      },
    );
    await running.stop();

    // The same queries on the imported feed: on the main thread (how they ran before), then
    // through the departures query thread (how the manager runs them now).
    const db = openTimetableDatabase(path.join(dir, 'm'));
    const store = new GtfsStore(db);
    store.init();
    const now = Math.floor(Date.parse('2026-03-04T12:00:00-04:00') / 1000);
    const stops = db
      .prepare<[], { stop_id: string }>('SELECT stop_id FROM gtfs_stops LIMIT 2000')
      .all()
      .map((row) => row.stop_id);
    const hubSlice = store.departures(SYNTHETIC_HUB, now, now + 30 * 3600, 5000).length;
    const onMain = await queryLoad(stops, now, async (...q) => store.departures(...q));
    const worker = new DepartureWorker({ dbPath: db.name });
    await worker.start();
    const offMain = await queryLoad(stops, now, (...q) => worker.departures(...q));
    await worker.stop();
    const idle = await idleLoop(offMain.wallMs);
    const what = `hub 30 h slice of ${hubSlice} x5, ${stops.length} stops' next 8`;
    figures.push(
      {
        name: `worst single query on the main thread (${what})`,
        value: onMain.worstQuery,
        unit: 'ms',
      },
      {
        name: 'worst event-loop block during those queries, through the query thread',
        value: offMain.worstBlock,
        unit: 'ms',
        baseline: { name: 'on the main thread', value: onMain.worstBlock },
      },
      {
        name: 'worst event-loop block through the query thread, beside this machine idle',
        value: offMain.worstBlock,
        unit: 'ms',
        baseline: { name: 'idle loop, as long, no queries', value: idle.worstBlock },
      },
      {
        name: 'p99 event-loop delay during those queries, through the query thread',
        value: offMain.p99,
        unit: 'ms',
        baseline: { name: 'on the main thread', value: onMain.p99 },
      },
      {
        name: 'those queries, wall time through the query thread',
        value: offMain.wallMs,
        unit: 'ms',
        baseline: { name: 'on the main thread', value: onMain.wallMs },
      },
    );
    db.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  printFigures('manager event loop on a generated city feed', figures);
}

if (process.argv[1] && import.meta.filename === path.resolve(process.argv[1])) {
  await benchEventLoop(Number(process.argv[2] ?? 10_000_000));
}
