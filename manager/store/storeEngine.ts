/** Where the shared store lives: one SQLite file (the embedded default) or a PostgreSQL database. */
import path from 'node:path';

export type StoreEngine = 'sqlite' | 'postgres';

export type StoreLocation =
  { engine: 'sqlite'; file: string } | { engine: 'postgres'; url: string };

/**
 * The few column types the engines spell differently; everything else in a
 * migration is written once.
 */
export interface ColumnTypes {
  /** Epoch seconds and other counts past 2^31. */
  epoch: 'integer' | 'bigint';
  bytes: 'blob' | 'bytea';
}

export function columnTypes(engine: StoreEngine): ColumnTypes {
  return engine === 'sqlite'
    ? { epoch: 'integer', bytes: 'blob' }
    : { epoch: 'bigint', bytes: 'bytea' };
}

/** The location with any password replaced, for logs and error messages. */
export function describeLocation(location: StoreLocation): string {
  if (location.engine === 'sqlite') return `SQLite ${location.file}`;
  const url = new URL(location.url);
  if (url.password) url.password = '***';
  return `PostgreSQL ${url.toString()}`;
}

/** No database URL: one SQLite file beside the manager's other data. */
export function storeLocationFor(config: {
  dataDir: string;
  databaseUrl?: string | undefined;
}): StoreLocation {
  return config.databaseUrl
    ? { engine: 'postgres', url: config.databaseUrl }
    : { engine: 'sqlite', file: path.join(config.dataDir, 'manager.db') };
}
