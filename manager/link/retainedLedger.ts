/**
 * What the manager believes each of its retained topics holds, against what
 * the broker says they hold. Anyone can publish a retained message on a
 * topic: a stranger's "manager offline", a cleared announcement, an old
 * schedule. Such drift is found here and handed back for correction on the
 * next reconcile tick, so it lasts at most one reconcile interval.
 */
import { createHash } from 'node:crypto';

export function digestOf(payload: Uint8Array | string): string {
  return createHash('sha1').update(payload).digest('base64');
}

export class RetainedLedger {
  /**
   * Topic → digests of what the manager retained there: the last payload, and
   * the one before while that one's echo may still be on its way.
   */
  private readonly believed = new Map<string, string[]>();
  /** Topic → digest of the last payload the broker delivered, where it may differ. */
  private readonly seen = new Map<string, string>();

  /**
   * `echoes`: the broker sends the manager its own writes back (no "no local"
   * on MQTT 3.1.1). Without them nothing of the manager's is on its way, so
   * only the last payload is its own: a stranger writing back what the manager
   * had there before (say, wiping an announcement just after one was cleared)
   * is drift, not a late echo.
   */
  constructor(private readonly echoes = true) {}

  /** The manager retained `payload` on `topic` (an empty payload clears it). */
  published(topic: string, payload: Uint8Array | string): void {
    const digest = digestOf(payload);
    const previous = this.believed.get(topic)?.[0];
    const keepPrevious = this.echoes && previous !== undefined && previous !== digest;
    this.believed.set(topic, keepPrevious ? [digest, previous] : [digest]);
  }

  /**
   * The broker delivered `payload` on `topic`. `mustOwn`: a topic only the
   * manager may write (announcements, its status); a message there that the
   * manager never sent is drift even without a belief about the topic.
   */
  delivered(topic: string, payload: Uint8Array, mustOwn: boolean): void {
    const belief = this.believed.get(topic);
    if (belief === undefined && !mustOwn) return;
    const digest = digestOf(payload);
    if (belief?.[0] === digest) {
      // The last write's echo: the broker delivers a topic in order, so the one before has passed.
      this.seen.delete(topic);
      if (belief.length > 1) this.believed.set(topic, [digest]);
    } else if (belief?.[1] === digest) {
      this.seen.delete(topic);
    } else {
      this.seen.set(topic, digest);
    }
  }

  /** Someone with the right to (another manager) wrote `topic`: no belief about it is kept. */
  forget(topic: string): void {
    this.believed.delete(topic);
    this.seen.delete(topic);
  }

  /** Topics whose last delivered payload is still not what the manager retained; then forgets them. */
  drifted(): string[] {
    const out: string[] = [];
    for (const [topic, digest] of this.seen) {
      if (this.believed.get(topic)?.[0] !== digest) out.push(topic);
    }
    this.seen.clear();
    return out;
  }

  /** After a broker restart nothing retained survives, nor do beliefs about it. */
  clear(): void {
    this.believed.clear();
    this.seen.clear();
  }
}
