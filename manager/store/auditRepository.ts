/**
 * The audit log: who did what, when, from where, and what changed. Append
 * only: this interface has no way to change or remove an event.
 */
export type ActorKind = 'operator' | 'token' | 'sign' | 'system' | 'anonymous';

export interface NewAuditEvent {
  at: number;
  actorKind: ActorKind;
  /** Username, "token <id> of <username>", device id, or what the system part is. */
  actor: string;
  address: string | null;
  /** Dotted verb, e.g. sign.revoke, announcement.post, login.failure. */
  action: string;
  targetKind: string | null;
  targetId: string | null;
  before: unknown;
  after: unknown;
}

export interface AuditEvent extends NewAuditEvent {
  eventId: number;
}

export interface AuditFilter {
  /** Exact actor. */
  actor?: string | undefined;
  /** An action, or a prefix ending in '.' (e.g. "sign."). */
  action?: string | undefined;
  targetId?: string | undefined;
  from?: number | undefined;
  to?: number | undefined;
  /** Only events older than this id: the next page. */
  before?: number | undefined;
  limit: number;
}

export interface AuditRepository {
  append(event: NewAuditEvent): Promise<number>;
  /** Newest first. */
  query(filter: AuditFilter): Promise<AuditEvent[]>;
}
