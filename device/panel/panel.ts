import type { IndexedFrame } from '../render/frame';

export interface PanelStats {
  /** False after a frame could not be delivered within its retries. */
  ok: boolean;
  framesSent: number;
  retries: number;
  failures: number;
  lastError?: string;
}

/** What the sign needs from its display, whatever the glass and link underneath. */
export interface Panel {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Shows the frame; resolves once the panel acknowledged it, rejects after retries run out. */
  show(frame: IndexedFrame): Promise<void>;
  /** 0-100 %. */
  setBrightness(percent: number): Promise<void>;
  stats(): PanelStats;
}
