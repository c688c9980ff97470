/**
 * Named leases for jobs that must run on one manager at a time, such as
 * advancing a rollout: the holder renews before expiry; when it dies, the
 * lease lapses and another manager takes it.
 */
export interface LeaseRepository {
  /**
   * Takes the lease for `holder` until `nowMs + ttlMs`, or renews it when
   * `holder` has it already. False while another holder's lease runs.
   */
  acquire(name: string, holder: string, nowMs: number, ttlMs: number): Promise<boolean>;
  /** Gives the lease up if `holder` has it, so another may take it at once. */
  release(name: string, holder: string): Promise<void>;
  /** Who holds the lease at `nowMs`, if anyone. */
  holder(name: string, nowMs: number): Promise<string | undefined>;
}
