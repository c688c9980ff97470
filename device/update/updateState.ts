/**
 * The agent's persisted state: one JSON file, rewritten atomically before each
 * step starts, so a power cut at any moment leaves the step to redo or undo.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { updateOfferData, updateOutcome, updatePhase } from '../../shared';
import { writeFileAtomic } from './atomicFile';

export const updateState = z.object({
  format: z.literal(1),
  phase: updatePhase,
  offer: updateOfferData.optional(),
  /** Download attempts that failed for this offer; survives restarts, so retries stay capped. */
  attempt: z.number().int().nonnegative().default(0),
  /** Bytes fetched over the network for this offer, retries included (the data budget). */
  fetchedBytes: z.number().int().nonnegative().default(0),
  /** Slot being installed and tried, "a" or "b". */
  targetSlot: z.enum(['a', 'b']).optional(),
  /** Epoch ms the switch began; the new slot's process must have started after it. */
  switchedAtMs: z.number().int().nonnegative().optional(),
  trialDeadlineMs: z.number().int().nonnegative().optional(),
  /** Why a rollback or failure happens, set when entering rolled-back or failed. */
  failure: z.object({ reason: z.string(), detail: z.string() }).optional(),
  lastOutcome: updateOutcome.optional(),
});
export type UpdateState = z.infer<typeof updateState>;

export const IDLE: UpdateState = { format: 1, phase: 'idle', attempt: 0, fetchedBytes: 0 };

export class UpdateStateStore {
  readonly file: string;

  constructor(stateDir: string) {
    this.file = path.join(stateDir, 'state.json');
  }

  /** A missing or unreadable file means idle: the slots themselves say what is installed. */
  load(): UpdateState {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch {
      return IDLE;
    }
    try {
      const parsed = updateState.safeParse(JSON.parse(text));
      if (parsed.success) return parsed.data;
    } catch {
      // fall through
    }
    return IDLE;
  }

  save(state: UpdateState): void {
    writeFileAtomic(this.file, JSON.stringify(state));
  }
}
