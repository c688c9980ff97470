/**
 * An input that reports a change only once the line has held its new level for
 * `settleMs`: switch contacts bounce for milliseconds, and a door or a button
 * must not raise ten alarms for one push.
 */
import type { GpioInput, Level } from './gpio';

export class DebouncedInput {
  private stable: Level = 0;
  private raw: Level = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners: Array<(level: Level) => void> = [];

  constructor(
    private readonly input: GpioInput,
    private readonly settleMs: number,
  ) {}

  async start(): Promise<Level> {
    this.stable = this.raw = await this.input.read();
    this.input.watch((level) => this.edge(level));
    return this.stable;
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.input.release();
  }

  get level(): Level {
    return this.stable;
  }

  onChange(listener: (level: Level) => void): void {
    this.listeners.push(listener);
  }

  private edge(level: Level): void {
    this.raw = level;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.raw === this.stable) return;
      this.stable = this.raw;
      for (const listener of this.listeners) listener(this.stable);
    }, this.settleMs);
  }
}
