/**
 * Runs a store's contract suite once per engine: a SQLite file and a real
 * PostgreSQL server started for the suite. Every test asks for a fresh,
 * migrated, empty store. PostgreSQL missing is a failure, never a skip: setup
 * installs it, and a suite that silently ran on one engine proves half.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe } from 'vitest';
import {
  openSharedStore,
  type SharedStore,
  type SharedStoreOptions,
} from '../../manager/store/sharedStore';
import type { StoreEngine, StoreLocation } from '../../manager/store/storeEngine';
import { PostgresServer } from './postgres';

export const STORE_ENGINES: StoreEngine[] = ['sqlite', 'postgres'];

export interface EngineFixture {
  engine: StoreEngine;
  /** A location no store has used yet. */
  freshLocation: () => Promise<StoreLocation>;
  /** A new, migrated, empty store; closed after the test. */
  freshStore: (options?: SharedStoreOptions) => Promise<SharedStore>;
}

export function describeEachEngine(title: string, suite: (fixture: EngineFixture) => void): void {
  describe.each(STORE_ENGINES)(`${title} (%s)`, (engine) => {
    let dir = '';
    let server: PostgresServer | undefined;
    let files = 0;
    const open: SharedStore[] = [];

    beforeAll(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), `stopsign-store-${engine}-`));
      if (engine === 'postgres') server = await PostgresServer.start();
    }, 60_000);

    afterEach(async () => {
      await Promise.all(open.splice(0).map((store) => store.close()));
    });

    afterAll(async () => {
      await server?.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    const freshLocation = async (): Promise<StoreLocation> => {
      if (engine === 'sqlite') return { engine, file: path.join(dir, `store-${++files}.db`) };
      if (!server) throw new Error('the PostgreSQL server did not start (see beforeAll)');
      return { engine, url: await server.createDatabase() };
    };
    const freshStore = async (options?: SharedStoreOptions): Promise<SharedStore> => {
      const store = await openSharedStore(await freshLocation(), options);
      open.push(store);
      return store;
    };
    suite({ engine, freshLocation, freshStore });
  });
}
