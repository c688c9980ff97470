import { Migrator, type Kysely } from 'kysely';
import { storeMigrations } from './migrations';
import type { StoreEngine } from './storeEngine';

/**
 * Applies every migration not yet applied, in order. On PostgreSQL, Kysely
 * holds an advisory lock meanwhile, so managers starting together migrate once.
 */
export async function migrateStore<DB>(db: Kysely<DB>, engine: StoreEngine): Promise<string[]> {
  const migrations = storeMigrations(engine);
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
  });
  const { error, results = [] } = await migrator.migrateToLatest();
  const failed = results.find((r) => r.status === 'Error');
  if (error !== undefined) {
    const reason = error instanceof Error ? error.message : JSON.stringify(error);
    throw new Error(
      failed
        ? `migration ${failed.migrationName} failed: ${reason}`
        : `migrating failed: ${reason}`,
    );
  }
  return results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
