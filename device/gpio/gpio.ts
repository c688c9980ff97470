/**
 * The narrow seam to the board's GPIO lines. The real one is onoff on the
 * kernel's sysfs interface (onoffGpio.ts); the simulator (gpioSimulator.ts)
 * stands in where there are no lines and checks how they are used.
 */
export type Level = 0 | 1;

export interface GpioOutput {
  write(level: Level): Promise<void>;
  /** Gives the line back to the kernel. */
  release(): void;
}

export interface GpioInput {
  read(): Promise<Level>;
  /** Called on every edge, with the level after it. */
  watch(listener: (level: Level) => void): void;
  release(): void;
}

export interface Gpio {
  /** Claims a line as an output driven to `initial`. */
  output(line: number, initial: Level): GpioOutput;
  /** Claims a line as an input reporting both edges. */
  input(line: number): GpioInput;
}
