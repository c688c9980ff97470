/**
 * Writes the audit trail. A change that happened is never undone because its
 * record could not be written, but the failure is logged loudly so it can be
 * noticed and the store repaired.
 */
import type { Logger } from 'pino';
import type { ActorKind, AuditRepository } from '../store/auditRepository';
import { actorOf, type Principal } from './principal';

export interface AuditEntry {
  action: string;
  target?: { kind: string; id: string };
  before?: unknown;
  after?: unknown;
}

export interface AuditActor {
  actorKind: ActorKind;
  actor: string;
  address: string | null;
}

export class AuditLog {
  constructor(
    private readonly repository: AuditRepository,
    private readonly clock: () => number,
    private readonly logger: Logger,
  ) {}

  static byPrincipal(principal: Principal, address: string | null): AuditActor {
    return { ...actorOf(principal), address };
  }

  async record(who: AuditActor, entry: AuditEntry): Promise<void> {
    try {
      await this.repository.append({
        at: Math.floor(this.clock() / 1000),
        actorKind: who.actorKind,
        actor: who.actor,
        address: who.address,
        action: entry.action,
        targetKind: entry.target?.kind ?? null,
        targetId: entry.target?.id ?? null,
        before: entry.before ?? null,
        after: entry.after ?? null,
      });
    } catch (err) {
      this.logger.error(
        { err: (err as Error).message, action: entry.action, actor: who.actor },
        'could not write an audit event',
      );
    }
  }
}
