import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { DebouncedInput } from '../device/gpio/debouncedInput';
import { GpioSimulator } from '../device/gpio/gpioSimulator';
import { PoleIo } from '../device/gpio/poleIo';
import { decodeMessage, topics } from '../shared';
import { startBroker } from './helpers/deviceBroker';
import {
  buildSign,
  configData,
  DEVICE_ID,
  tempDir,
  TestManager,
  waitFor,
} from './helpers/deviceFixtures';

const WIRING = {
  panelPower: 5,
  backlight: 6,
  ambientLight: 13,
  doorSwitch: 19,
  button: 26,
  debounceMs: 20,
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('GPIO simulator', () => {
  it('holds code to the rules of real lines', async () => {
    const gpio = new GpioSimulator();
    const out = gpio.output(5, 1);
    expect(() => gpio.input(5)).toThrow('already claimed');
    out.release();
    await expect(out.write(0)).rejects.toThrow('after release');
    expect(() => out.release()).toThrow('released twice');
    const input = gpio.input(5);
    expect(() => gpio.setInput(99, 1)).not.toThrow(); // preset for a line claimed later
    expect(await input.read()).toBe(0);
  });
});

describe('debounced input', () => {
  it('reports one change for a bouncing contact, and none for a glitch', async () => {
    const gpio = new GpioSimulator();
    const input = new DebouncedInput(gpio.input(19), 20);
    const changes: number[] = [];
    input.onChange((level) => changes.push(level));
    await input.start();
    await gpio.bounce(19, 1, 7, 2); // 7 edges 2 ms apart, then held
    await sleep(40);
    expect(changes).toEqual([1]);
    gpio.setInput(19, 0); // a 5 ms glitch
    await sleep(5);
    gpio.setInput(19, 1);
    await sleep(40);
    expect(changes).toEqual([1]);
    input.stop();
  });
});

describe('pole lines', () => {
  it('powers the panel while running and gives every line back on stop', async () => {
    const gpio = new GpioSimulator();
    const io = new PoleIo({ gpio, wiring: WIRING });
    await io.start();
    expect(gpio.level(5)).toBe(1);
    expect(gpio.level(6)).toBe(0);
    await io.setBacklight(true);
    expect(gpio.level(6)).toBe(1);
    await io.stop();
    expect(gpio.level(5)).toBe(0);
    for (const line of [5, 6, 13, 19, 26]) expect(gpio.claimed(line)).toBe(false);
  });

  it('tells a short press from a long one, and a bounce from a press', async () => {
    const gpio = new GpioSimulator();
    const io = new PoleIo({ gpio, wiring: WIRING, longPressMs: 150 });
    const events: string[] = [];
    io.on('press', () => events.push('press'));
    io.on('longPress', () => events.push('long'));
    await io.start();
    await gpio.bounce(26, 1, 5, 2);
    await sleep(60);
    await gpio.bounce(26, 0, 5, 2);
    await sleep(40);
    expect(events).toEqual(['press']);
    gpio.setInput(26, 1);
    await sleep(250);
    expect(events).toEqual(['press', 'long']); // reported while still held
    gpio.setInput(26, 0);
    await sleep(40);
    expect(events).toEqual(['press', 'long']);
    gpio.setInput(26, 1); // a 5 ms tap is contact noise, not a press
    await sleep(5);
    gpio.setInput(26, 0);
    await sleep(40);
    expect(events).toEqual(['press', 'long']);
    await io.stop();
  });

  it('has no lines at all when the profile wires none', async () => {
    const gpio = new GpioSimulator();
    const io = new PoleIo({ gpio, wiring: {} });
    await io.start();
    expect([io.doorOpen(), io.daylight()]).toEqual([null, null]);
    await io.stop();
  });
});

describe('sign with pole lines', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('raises a cabinet door alarm at once and follows the light sensor within its limits', async () => {
    const broker = await startBroker();
    cleanups.push(() => broker.close());
    const temp = tempDir();
    cleanups.push(() => temp.remove());
    const manager = await TestManager.connect(broker.url);
    cleanups.push(() => manager.close());
    // Noon by the schedule, so only the sensor can make it night.
    await manager.publishAll();
    const gpio = new GpioSimulator();
    gpio.setInput(WIRING.ambientLight, 1);
    const subject = buildSign({
      brokerUrl: broker.url,
      dataDir: temp.dir,
      poleIo: new PoleIo({ gpio, wiring: WIRING }),
      config: { statusIntervalSeconds: 3600 },
    });
    const watcher = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
    cleanups.push(() => watcher.endAsync(true));
    const doors: (boolean | undefined)[] = [];
    watcher.on('message', (_topic, payload) => {
      const decoded = decodeMessage('deviceStatus', payload);
      if (decoded.ok) doors.push(decoded.message.data.cabinet?.doorOpen);
    });
    await watcher.subscribeAsync(topics.deviceStatus(DEVICE_ID), { qos: 1 });
    await subject.sign.start();
    cleanups.push(() => subject.sign.stop());
    const { day, night } = configData().brightness;
    await waitFor('day brightness', () => subject.panel.brightness.includes(day));
    expect(gpio.level(WIRING.backlight)).toBe(1);

    gpio.setInput(WIRING.doorSwitch, 1);
    await waitFor('door alarm in the status', () => doors.includes(true));
    gpio.setInput(WIRING.doorSwitch, 0);
    await waitFor(
      'door closed in the status',
      () => doors.lastIndexOf(false) > doors.indexOf(true),
    );

    await gpio.bounce(WIRING.ambientLight, 0, 5, 2);
    await waitFor('night brightness', () => subject.panel.brightness.at(-1) === night);
    expect(subject.panel.brightness.filter((b) => b === night)).toHaveLength(1);
    await subject.sign.stop();
    expect(gpio.level(WIRING.panelPower)).toBe(0);
  });
});
