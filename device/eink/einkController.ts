/**
 * What the e-paper panel policy (einkPanel.ts) needs from a controller
 * driver: each call runs a whole wake, load, refresh, sleep cycle, so the
 * panel is never left powered between refreshes.
 */
import type { IndexedFrame, Rect } from '../render/frame';
import type { GpioInput, Level } from '../gpio/gpio';

export interface EinkController {
  /** False for panels that only refresh whole (e.g. black/white/red). */
  readonly supportsPartial: boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The controller's own sensor, degrees Celsius. */
  readTemperature(): Promise<number>;
  /** Whole panel, full waveform (clears ghosting). */
  fullRefresh(frame: IndexedFrame): Promise<void>;
  /**
   * Only `rect`, fast waveform. `previous` is what the paper shows now; the
   * controller computes the waveform from it, so it must be exact.
   */
  partialRefresh(previous: IndexedFrame, frame: IndexedFrame, rect: Rect): Promise<void>;
}

export class BusyTimeoutError extends Error {}

/** Polls the BUSY line until it reads `idle`, failing after `timeoutMs`. */
export async function waitWhileBusy(
  busy: GpioInput,
  idle: Level,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while ((await busy.read()) !== idle) {
    if (performance.now() > deadline) {
      throw new BusyTimeoutError(`controller still busy after ${timeoutMs} ms (${what})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));
