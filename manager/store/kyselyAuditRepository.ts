import type { Kysely, Selectable } from 'kysely';
import type { AuditEvent, AuditFilter, AuditRepository, NewAuditEvent } from './auditRepository';
import type { AuditEventsTable, StoreSchema } from './storeSchema';

const json = (value: unknown): string | null =>
  value === undefined || value === null ? null : JSON.stringify(value);

export class KyselyAuditRepository implements AuditRepository {
  constructor(private readonly db: Kysely<StoreSchema>) {}

  async append(event: NewAuditEvent): Promise<number> {
    const row = await this.db
      .insertInto('audit_events')
      .values({
        at: event.at,
        actor_kind: event.actorKind,
        actor: event.actor,
        address: event.address,
        action: event.action,
        target_kind: event.targetKind,
        target_id: event.targetId,
        before_json: json(event.before),
        after_json: json(event.after),
      })
      .returning('event_id')
      .executeTakeFirstOrThrow();
    return Number(row.event_id);
  }

  async query(filter: AuditFilter): Promise<AuditEvent[]> {
    let query = this.db.selectFrom('audit_events').selectAll();
    if (filter.actor !== undefined) query = query.where('actor', '=', filter.actor);
    if (filter.action !== undefined) {
      query = filter.action.endsWith('.')
        ? query.where('action', 'like', `${escapeLike(filter.action)}%`)
        : query.where('action', '=', filter.action);
    }
    if (filter.targetId !== undefined) query = query.where('target_id', '=', filter.targetId);
    if (filter.from !== undefined) query = query.where('at', '>=', filter.from);
    if (filter.to !== undefined) query = query.where('at', '<=', filter.to);
    if (filter.before !== undefined) query = query.where('event_id', '<', filter.before);
    const rows = await query.orderBy('event_id', 'desc').limit(filter.limit).execute();
    return rows.map(toEvent);
  }
}

/** Actions are dotted words; anything LIKE would read as a wildcard is refused upstream, but be sure. */
function escapeLike(text: string): string {
  return text.replace(/[%_]/g, '');
}

function toEvent(row: Selectable<AuditEventsTable>): AuditEvent {
  return {
    eventId: Number(row.event_id),
    at: row.at,
    actorKind: row.actor_kind,
    actor: row.actor,
    address: row.address,
    action: row.action,
    targetKind: row.target_kind,
    targetId: row.target_id,
    before: row.before_json === null ? null : (JSON.parse(row.before_json) as unknown),
    after: row.after_json === null ? null : (JSON.parse(row.after_json) as unknown),
  };
}
