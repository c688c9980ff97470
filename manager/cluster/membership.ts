/**
 * This manager's place among the managers sharing one broker: it renews its
 * membership in the shared store every third of the lease and reads who else
 * is alive. A manager that dies stops renewing; when its lease runs out the
 * others see it gone and take its share.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { ClusterMemberRepository } from '../store/clusterMemberRepository';
import { ownerOf } from './rendezvous';

export interface ClusterMembershipOptions {
  members: ClusterMemberRepository;
  group: string;
  memberId: string;
  /** How long a membership lasts without renewal; the bound on taking over a dead manager's share. */
  leaseMs: number;
  /** Epoch milliseconds. */
  clock: () => number;
  logger: Logger;
}

export class ClusterMembership extends EventEmitter<{ changed: [members: string[]] }> {
  private view: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private renewing: Promise<void> = Promise.resolve();

  constructor(private readonly options: ClusterMembershipOptions) {
    super();
  }

  get memberId(): string {
    return this.options.memberId;
  }

  /** Live members as last read, by id; this manager among them once it has joined. */
  members(): string[] {
    return this.view;
  }

  owns(key: string): boolean {
    return ownerOf(key, this.view) === this.options.memberId;
  }

  /** Joins (the store must be reachable), then renews in the background. */
  async start(): Promise<void> {
    await this.renew();
    this.timer = setInterval(
      () => {
        this.renewing = this.renew().catch((err: unknown) => {
          this.options.logger.warn(
            { err: (err as Error).message },
            'could not renew cluster membership; will retry',
          );
        });
      },
      Math.max(100, Math.floor(this.options.leaseMs / 3)),
    );
  }

  /** Leaves at once, so the others take over without waiting for the lease to run out. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.renewing;
    const { members, group, memberId } = this.options;
    await members.leave(group, memberId).catch(() => undefined);
    this.view = [];
  }

  private async renew(): Promise<void> {
    const { members, group, memberId, leaseMs, clock } = this.options;
    await members.renew(group, memberId, clock(), leaseMs);
    const live = (await members.live(group, clock())).map((m) => m.memberId);
    if (!live.includes(memberId)) live.push(memberId);
    live.sort();
    if (live.join('\n') === this.view.join('\n')) return;
    this.options.logger.info({ members: live, was: this.view }, 'cluster members changed');
    this.view = live;
    this.emit('changed', live);
  }
}
