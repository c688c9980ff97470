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

    // Queries on the imported feed, on the main thread as the publisher runs them.
    const db = openTimetableDatabase(path.join(dir, 'm'));
    const store = new GtfsStore(db);
    store.init();
    const now = Math.floor(Date.parse('2026-03-04T12:00:00-04:00') / 1000);
    const stops = db
      .prepare<[], { stop_id: string }>('SELECT stop_id FROM gtfs_stops LIMIT 2000')
      .all();
    const queryLoop = monitorEventLoopDelay({ resolution: 10 });
    queryLoop.enable();
    let worstQuery = 0;
    const time = (fn: () => unknown) => {
      const t = performance.now();
      fn();
      worstQuery = Math.max(worstQuery, performance.now() - t);
    };
    for (let i = 0; i < 5; i++) {
      time(() => store.departures(SYNTHETIC_HUB, now, now + 30 * 3600, 5000));
      await new Promise((r) => setImmediate(r));
    }
    const hubSlice = store.departures(SYNTHETIC_HUB, now, now + 30 * 3600, 5000).length;
    for (const { stop_id } of stops) {
      time(() => store.departures(stop_id, now, now + 3 * 3600, 8));
      await new Promise((r) => setImmediate(r));
    }
    queryLoop.disable();
    figures.push(
      {
        name: `worst single query (hub 30 h slice of ${hubSlice}, ${stops.length} stops' next 8)`,
        value: worstQuery,
        unit: 'ms',
      },
      {
        name: 'worst event-loop block during those queries',
        value: queryLoop.max / 1e6,
        unit: 'ms',
        baseline: { name: 'p99', value: queryLoop.percentile(99) / 1e6 },
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
