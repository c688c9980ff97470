/**
 * Publishing rounds: time is cut into rounds of one publishing interval, and
 * each stop is published in a round by at most one manager, whichever claims
 * it first. Managers that briefly disagree about who owns a stop (one has not
 * yet seen another join or die) therefore never both publish it.
 */
export interface StopRoundRepository {
  /**
   * Claims `stopIds` for `memberId` in `round` and returns the ones it holds
   * for that round: newly claimed, or claimed by it earlier in the round. A
   * stop another member holds for this round or a later one is left out.
   */
  claim(stopIds: readonly string[], round: number, memberId: string): Promise<string[]>;
}
