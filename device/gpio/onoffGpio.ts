/**
 * GPIO through onoff (sysfs). Loaded only when a sign has lines to drive, so a
 * development machine without /sys/class/gpio never touches it.
 */
import { createRequire } from 'node:module';
import type { Gpio as OnoffLine } from 'onoff';
import type { Gpio, GpioInput, GpioOutput, Level } from './gpio';

type OnoffModule = typeof import('onoff');

export class OnoffGpio implements Gpio {
  private onoff: OnoffModule | undefined;

  /** True when the kernel offers sysfs GPIO here. */
  static accessible(): boolean {
    return OnoffGpio.load().Gpio.accessible;
  }

  private static load(): OnoffModule {
    return createRequire(import.meta.url)('onoff') as OnoffModule;
  }

  private line(): OnoffModule['Gpio'] {
    this.onoff ??= OnoffGpio.load();
    return this.onoff.Gpio;
  }

  output(line: number, initial: Level): GpioOutput {
    const Line = this.line();
    const gpio: OnoffLine = new Line(line, initial === 1 ? 'high' : 'low');
    return {
      write: (level) => gpio.write(level),
      release: () => gpio.unexport(),
    };
  }

  input(line: number): GpioInput {
    const Line = this.line();
    const gpio: OnoffLine = new Line(line, 'in', 'both');
    return {
      read: async () => ((await gpio.read()) === 1 ? 1 : 0),
      watch: (listener) =>
        gpio.watch((err, value) => {
          if (!err) listener(value === 1 ? 1 : 0);
        }),
      release: () => {
        gpio.unwatchAll();
        gpio.unexport();
      },
    };
  }
}
