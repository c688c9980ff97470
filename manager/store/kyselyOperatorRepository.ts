import type { Kysely, Selectable } from 'kysely';
import type { OperatorRecord, OperatorRepository } from './operatorRepository';
import type { OperatorsTable, StoreSchema } from './storeSchema';
import type { Role } from '../../shared';

export class KyselyOperatorRepository implements OperatorRepository {
  constructor(private readonly db: Kysely<StoreSchema>) {}

  async create(record: Omit<OperatorRecord, 'disabledAt' | 'passwordChangedAt'>): Promise<boolean> {
    const inserted = await this.db
      .insertInto('operators')
      .values({
        username: record.username,
        password_hash: record.passwordHash,
        role: record.role,
        created_at: record.createdAt,
        password_changed_at: record.createdAt,
        disabled_at: null,
      })
      .onConflict((oc) => oc.column('username').doNothing())
      .executeTakeFirst();
    return (inserted.numInsertedOrUpdatedRows ?? 0n) > 0n;
  }

  async get(username: string): Promise<OperatorRecord | undefined> {
    const row = await this.db
      .selectFrom('operators')
      .selectAll()
      .where('username', '=', username)
      .executeTakeFirst();
    return row ? toRecord(row) : undefined;
  }

  async list(): Promise<OperatorRecord[]> {
    const rows = await this.db.selectFrom('operators').selectAll().orderBy('username').execute();
    return rows.map(toRecord);
  }

  async count(): Promise<number> {
    const row = await this.db
      .selectFrom('operators')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async countActiveAdmins(): Promise<number> {
    const row = await this.db
      .selectFrom('operators')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('role', '=', 'admin')
      .where('disabled_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async setRole(username: string, role: Role): Promise<boolean> {
    const result = await this.db
      .updateTable('operators')
      .set({ role })
      .where('username', '=', username)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async setPassword(username: string, passwordHash: string, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable('operators')
      .set({ password_hash: passwordHash, password_changed_at: now })
      .where('username', '=', username)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async setDisabled(username: string, disabledAt: number | null): Promise<boolean> {
    const result = await this.db
      .updateTable('operators')
      .set({ disabled_at: disabledAt })
      .where('username', '=', username)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }
}

function toRecord(row: Selectable<OperatorsTable>): OperatorRecord {
  return {
    username: row.username,
    passwordHash: row.password_hash,
    role: row.role,
    createdAt: row.created_at,
    passwordChangedAt: row.password_changed_at,
    disabledAt: row.disabled_at,
  };
}
