/**
 * Counts signs the manager has recorded as online since a moment, straight
 * from its store (read-only), so watching the storm costs the manager nothing.
 */
import Database from 'better-sqlite3';
import pg from 'pg';
import type { StoreLocation } from '../../manager/store/storeEngine';

export interface OnlineCounter {
  onlineSince(epochSeconds: number): Promise<number>;
  close(): Promise<void>;
}

export async function openOnlineCounter(location: StoreLocation): Promise<OnlineCounter> {
  if (location.engine === 'sqlite') {
    const db = new Database(location.file, { readonly: true, fileMustExist: true });
    const count = db.prepare<[number], { n: number }>(
      `SELECT count(*) AS n FROM signs
        WHERE last_seen_at >= ? AND json_extract(last_status, '$.state') = 'online'`,
    );
    return {
      onlineSince: async (since) => count.get(since)?.n ?? 0,
      close: async () => {
        db.close();
      },
    };
  }
  const client = new pg.Client({ connectionString: location.url });
  await client.connect();
  return {
    onlineSince: async (since) => {
      const result = await client.query<{ n: string }>(
        `SELECT count(*) AS n FROM signs
          WHERE last_seen_at >= $1 AND (last_status::json ->> 'state') = 'online'`,
        [since],
      );
      return Number(result.rows[0]?.n ?? 0);
    },
    close: () => client.end(),
  };
}
