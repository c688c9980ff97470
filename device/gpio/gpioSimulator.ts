/**
 * GPIO lines that are not there: tests and the demo drive inputs with
 * setInput()/bounce() and read outputs back. It holds code to the rules real
 * lines impose: a line is claimed once, used only in its direction, and not
 * after release.
 */
import type { Gpio, GpioInput, GpioOutput, Level } from './gpio';

interface SimLine {
  direction: 'in' | 'out';
  level: Level;
  released: boolean;
  listeners: Array<(level: Level) => void>;
}

export interface OutputChange {
  line: number;
  level: Level;
  atMs: number;
}

export class GpioSimulator implements Gpio {
  private readonly lines = new Map<number, SimLine>();
  private readonly writeListeners: Array<(change: OutputChange) => void> = [];
  /** Every write to every output, in order. */
  readonly writes: OutputChange[] = [];

  constructor(private readonly clock: () => number = () => performance.now()) {}

  output(line: number, initial: Level): GpioOutput {
    const sim = this.claim(line, 'out', initial);
    this.record(line, initial);
    return {
      write: async (level) => {
        if (sim.released) throw new Error(`GPIO ${line} written after release`);
        sim.level = level;
        this.record(line, level);
      },
      release: () => this.release(line, sim),
    };
  }

  input(line: number): GpioInput {
    const sim = this.claim(line, 'in', this.preset.get(line) ?? 0);
    return {
      read: async () => {
        if (sim.released) throw new Error(`GPIO ${line} read after release`);
        return sim.level;
      },
      watch: (listener) => sim.listeners.push(listener),
      release: () => this.release(line, sim),
    };
  }

  private readonly preset = new Map<number, Level>();

  /** Drives an input line (as the switch, sensor or controller would). Unclaimed lines keep the level for later. */
  setInput(line: number, level: Level): void {
    const sim = this.lines.get(line);
    if (!sim || sim.released) {
      this.preset.set(line, level);
      return;
    }
    if (sim.direction !== 'in') throw new Error(`GPIO ${line} is an output`);
    if (sim.level === level) return;
    sim.level = level;
    for (const listener of sim.listeners) listener(level);
  }

  /** Contact bounce: toggles the line `times` times `gapMs` apart, ending on `settle`. */
  async bounce(line: number, settle: Level, times: number, gapMs: number): Promise<void> {
    for (let i = 0; i < times; i++) {
      this.setInput(line, (i % 2 === 0 ? settle : 1 - settle) as Level);
      await new Promise((resolve) => setTimeout(resolve, gapMs));
    }
    this.setInput(line, settle);
  }

  /** Current level of a line (output or input); undefined when never claimed. */
  level(line: number): Level | undefined {
    return this.lines.get(line)?.level;
  }

  claimed(line: number): boolean {
    const sim = this.lines.get(line);
    return sim !== undefined && !sim.released;
  }

  onWrite(listener: (change: OutputChange) => void): void {
    this.writeListeners.push(listener);
  }

  private claim(line: number, direction: 'in' | 'out', level: Level): SimLine {
    const existing = this.lines.get(line);
    if (existing && !existing.released) {
      throw new Error(`GPIO ${line} is already claimed as an ${existing.direction}put`);
    }
    const sim: SimLine = { direction, level, released: false, listeners: [] };
    this.lines.set(line, sim);
    return sim;
  }

  private release(line: number, sim: SimLine): void {
    if (sim.released) throw new Error(`GPIO ${line} released twice`);
    sim.released = true;
    sim.listeners = [];
  }

  private record(line: number, level: Level): void {
    const change = { line, level, atMs: this.clock() };
    this.writes.push(change);
    for (const listener of this.writeListeners) listener(change);
  }
}
