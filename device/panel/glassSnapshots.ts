/**
 * Keeps a PNG of the glass up to date without redrawing on every packet: at
 * most one write per interval, and the newest state always ends up on disk.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import type { IndexedFrame } from '../render/frame';
import { frameToPng } from '../render/png';
import { renderGlassPng, writeFileAtomic } from './glassPng';

export interface GlassState {
  frame: IndexedFrame;
  brightness: number;
}

export interface GlassSnapshotsOptions {
  path: string;
  /** When set, the glass is also kept here at true size: one image pixel per LED, no dots. */
  truePath?: string;
  /** Reads the state to draw at the moment of drawing, so a late write shows the latest. */
  current: () => GlassState;
  scale: number;
  intervalMs: number;
  logger?: Logger;
}

export class GlassSnapshots {
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private dirty = false;
  private running = false;
  private lastWriteAt = -Infinity;
  private count = 0;

  constructor(private readonly options: GlassSnapshotsOptions) {}

  get writes(): number {
    return this.count;
  }

  async start(): Promise<void> {
    await mkdir(dirname(this.options.path), { recursive: true });
    if (this.options.truePath) await mkdir(dirname(this.options.truePath), { recursive: true });
    this.running = true;
  }

  /** Writes what is still pending, then stops scheduling. */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.writing;
    if (this.dirty) await this.write();
  }

  changed(): void {
    this.dirty = true;
    if (this.timer || this.writing || !this.running) return;
    const wait = Math.max(0, this.lastWriteAt + this.options.intervalMs - performance.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.write();
    }, wait);
  }

  private async write(): Promise<void> {
    const { path, truePath, current, scale, logger } = this.options;
    this.dirty = false;
    this.lastWriteAt = performance.now();
    const { frame, brightness } = current();
    this.writing = renderGlassPng(frame, { scale, brightness })
      .then((png) => writeFileAtomic(path, png))
      // The true-size picture is what the controller holds, exactly: tests and tools compare it.
      .then(() => (truePath ? writeFileAtomic(truePath, frameToPng(frame)) : undefined))
      .then(() => {
        this.count++;
      })
      .catch((err: unknown) =>
        logger?.warn({ err: String(err), path }, 'could not write panel PNG'),
      )
      .finally(() => {
        this.writing = undefined;
      });
    await this.writing;
    if (this.dirty) this.changed();
  }
}
