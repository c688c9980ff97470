/**
 * Opening the shared store on each engine: a new store (every migration
 * applied) beside a restart on a current schema (checked, nothing applied).
 * Recording an announcement to a district of 5,000 stops before it is sent:
 * in batches beside one statement per stop (how it was first written).
 * PostgreSQL is Debian's, started here from its binaries like in the tests.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSharedStore } from '../manager/store/sharedStore';
import type { StoreLocation } from '../manager/store/storeEngine';
import { PostgresServer } from '../tests/helpers/postgres';
import { printFigures, type Figure } from './measure';

const ROUNDS = 5;

async function openMs(location: StoreLocation): Promise<number> {
  const started = performance.now();
  const store = await openSharedStore(location);
  const ms = performance.now() - started;
  await store.close();
  return ms;
}

async function measure(
  engine: string,
  freshLocation: () => Promise<StoreLocation>,
): Promise<Figure> {
  let first = 0;
  let again = 0;
  for (let i = 0; i < ROUNDS; i++) {
    const location = await freshLocation();
    first += await openMs(location);
    again += await openMs(location);
  }
  return {
    name: `${engine}: open a new store, all migrations applied`,
    value: first / ROUNDS,
    unit: 'ms',
    baseline: { name: 'reopen, schema current', value: again / ROUNDS },
  };
}

const DISTRICT = 5_000;

/** A district's deliveries recorded in batches, beside one statement per stop, on a fresh store. */
async function districtRecord(engine: string, location: StoreLocation): Promise<Figure> {
  const store = await openSharedStore(location);
  try {
    const district = (name: string) =>
      Array.from({ length: DISTRICT }, (_, i) => ({
        topic: `stopsign/v2/stop/${name}-${i}/announcement`,
        announcementId: name,
      }));
    const deliveries = store.announcementDeliveries;
    await deliveries.record(district('warm-up'));
    let started = performance.now();
    const changed = await deliveries.record(district('batched'));
    const batched = performance.now() - started;
    started = performance.now();
    let oneByOne = 0;
    for (const delivery of district('one-by-one')) {
      oneByOne += (await deliveries.record([delivery])).size;
    }
    const single = performance.now() - started;
    if (changed.size !== DISTRICT || oneByOne !== DISTRICT) {
      throw new Error('bench: a district topic was not recorded as changed');
    }
    return {
      name: `${engine}: record an announcement on ${DISTRICT.toLocaleString('en')} stops`,
      value: batched,
      unit: 'ms',
      baseline: { name: 'one statement per stop', value: single },
    };
  } finally {
    await store.close();
  }
}

export async function benchStore(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-bench-store-'));
  const figures: Figure[] = [];
  try {
    let files = 0;
    await openMs({ engine: 'sqlite', file: path.join(dir, 'warm-up.db') });
    figures.push(
      await measure('SQLite', async () => ({
        engine: 'sqlite',
        file: path.join(dir, `store-${++files}.db`),
      })),
    );
    figures.push(
      await districtRecord('SQLite', { engine: 'sqlite', file: path.join(dir, 'district.db') }),
    );
    let server: PostgresServer | undefined;
    try {
      server = await PostgresServer.start();
    } catch (err) {
      console.log(`\n(PostgreSQL figures skipped: ${(err as Error).message})`);
    }
    if (server) {
      const pg = server;
      try {
        figures.push(
          await measure('PostgreSQL', async () => ({
            engine: 'postgres',
            url: await pg.createDatabase(),
          })),
        );
        figures.push(
          await districtRecord('PostgreSQL', {
            engine: 'postgres',
            url: await pg.createDatabase(),
          }),
        );
      } finally {
        await pg.stop();
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  printFigures('Shared store: start-up (migrations), a district announcement', figures);
}

// Run on its own: tsx bench/storeBench.ts
if (import.meta.url === `file://${process.argv[1]}`) await benchStore();
