/**
 * What the broker refused, by reason and by sign, so an attack or a
 * misconfigured sign shows in the health API and the console instead of only
 * in a log line.
 */
export type RefusalReason =
  | 'anonymous'
  | 'unknown-client'
  | 'bad-secret'
  | 'revoked'
  | 'client-id-mismatch'
  | 'throttled'
  | 'publish-denied'
  | 'subscribe-denied'
  | 'connection-limit';

export interface RefusalSnapshot {
  total: number;
  byReason: Partial<Record<RefusalReason, number>>;
  /** Refusals of clients that named a sign (its id as username). */
  bySign: Record<string, number>;
  last: { at: number; reason: RefusalReason; client: string; address: string; detail: string }[];
}

const KEEP_LAST = 20;
const MAX_SIGNS = 10_000;

export class BrokerRefusals {
  private total = 0;
  private readonly byReason = new Map<RefusalReason, number>();
  private readonly bySign = new Map<string, number>();
  private readonly last: RefusalSnapshot['last'] = [];

  constructor(private readonly clock: () => number = Date.now) {}

  record(
    reason: RefusalReason,
    client: string,
    address: string,
    detail: string,
    signId?: string,
  ): void {
    this.total += 1;
    this.byReason.set(reason, (this.byReason.get(reason) ?? 0) + 1);
    if (signId !== undefined && (this.bySign.has(signId) || this.bySign.size < MAX_SIGNS)) {
      this.bySign.set(signId, (this.bySign.get(signId) ?? 0) + 1);
    }
    this.last.unshift({
      at: Math.floor(this.clock() / 1000),
      reason,
      client: client.slice(0, 80),
      address,
      detail: detail.slice(0, 200),
    });
    this.last.length = Math.min(this.last.length, KEEP_LAST);
  }

  forSign(deviceId: string): number {
    return this.bySign.get(deviceId) ?? 0;
  }

  snapshot(): RefusalSnapshot {
    return {
      total: this.total,
      byReason: Object.fromEntries(this.byReason),
      bySign: Object.fromEntries(this.bySign),
      last: [...this.last],
    };
  }
}
