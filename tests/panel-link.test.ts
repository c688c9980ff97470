/**
 * Driver and simulated panel talking over a real socat pty pair: the bytes
 * cross a kernel tty exactly as they would reach a USB serial adapter.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadImage, createCanvas } from 'canvas';
import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { createFrame, framesEqual, PALETTE, type IndexedFrame } from '../device/render/frame';
import {
  brightnessPacket,
  decodeNak,
  encodePacket,
  PacketParser,
  PacketType,
  type Packet,
} from '../device/panel/protocol';
import { SerialPortLink } from '../device/panel/serialLink';
import { pngToFrame } from '../device/render/png';
import { BAUD, startPanelRig, type PanelRig, type RigOptions } from './helpers/panelRig';
import { patternFrame, withBox } from './helpers/panelFrames';

let rig: PanelRig | undefined;

async function open(options: RigOptions = {}) {
  rig = await startPanelRig(options);
  return rig;
}

afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

function expectSameFrame(actual: IndexedFrame, expected: IndexedFrame): void {
  expect(actual.width).toBe(expected.width);
  expect(actual.height).toBe(expected.height);
  // toEqual on the arrays names the first differing pixel when this fails.
  expect(Array.from(actual.pixels)).toEqual(Array.from(expected.pixels));
}

describe('LedMatrixDriver with the simulated panel over a pty', () => {
  it('shows a full frame pixel for pixel', async () => {
    const { driver, simulator } = await open();
    const frame = patternFrame(192, 64, 42);
    await driver!.show(frame);
    expectSameFrame(simulator!.frame(), frame);
    expect(simulator!.stats().accepted.fullFrame).toBe(1);
    expect(driver!.stats()).toMatchObject({
      ok: true,
      framesSent: 1,
      fullFramesSent: 1,
      retries: 0,
    });
    expect(simulator!.stats().bytesReceived).toBe(6156);
  });

  it('sends a small change as a RECT and skips an identical frame', async () => {
    const { driver, simulator } = await open();
    const base = patternFrame(192, 64, 5);
    await driver!.show(base);
    const before = simulator!.stats().bytesReceived;

    const changed = withBox(base, 150, 2, 6, 8, 4);
    await driver!.show(changed);
    expectSameFrame(simulator!.frame(), changed);
    expect(simulator!.stats().accepted.rect).toBe(1);
    // 8 bytes framing + 8 rect header + 6*8 LEDs / 2.
    expect(simulator!.stats().bytesReceived - before).toBe(8 + 8 + 24);

    await driver!.show({ ...changed, pixels: changed.pixels.slice() });
    expect(simulator!.stats().bytesReceived - before).toBe(40);
    expect(driver!.stats()).toMatchObject({ rectsSent: 1, framesSkipped: 1, framesSent: 2 });
  });

  it('keeps only the newest frame while one is in flight', async () => {
    const { driver, simulator } = await open();
    const frames = [1, 2, 3].map((seed) => patternFrame(192, 64, seed));
    await Promise.all(frames.map((frame) => driver!.show(frame)));
    expectSameFrame(simulator!.frame(), frames[2]!);
    expect(driver!.stats().framesCoalesced).toBe(1);
    expect(driver!.stats().framesSent).toBe(2);
  });

  it('sets the brightness and answers HELLO', async () => {
    const { driver, simulator } = await open();
    await driver!.setBrightness(35);
    expect(simulator!.brightness()).toBe(35);
    await expect(driver!.setBrightness(120)).rejects.toThrow(RangeError);
    expect(simulator!.stats().accepted.brightness).toBe(1);
    expect(await driver!.query()).toMatchObject({ width: 192, height: 64, protocolVersion: 1 });
  });

  it('retries packets damaged on the line until the frame arrives', async () => {
    const { driver, simulator } = await open();
    simulator!.corruptNextPackets(2);
    const frame = patternFrame(192, 64, 9);
    await driver!.show(frame);
    expectSameFrame(simulator!.frame(), frame);
    expect(simulator!.stats().rejected.crc).toBe(2);
    expect(driver!.stats()).toMatchObject({ ok: true, retries: 2, naks: 2, failures: 0 });
  });

  it('reports a failure when every attempt is damaged, then recovers with a full frame', async () => {
    const { driver, simulator } = await open({ driver: { maxRetries: 2 } });
    const first = patternFrame(192, 64, 1);
    await driver!.show(first);

    simulator!.corruptNextPackets(3);
    const second = withBox(first, 0, 0, 10, 10, 3);
    await expect(driver!.show(second)).rejects.toThrow(/after 3 attempts: NAK crc/);
    expect(driver!.stats()).toMatchObject({ ok: false, failures: 1 });
    expect(driver!.stats().lastError).toMatch(/RECT 10x10@0,0/);

    const third = withBox(first, 0, 0, 10, 10, 6);
    await driver!.show(third);
    expectSameFrame(simulator!.frame(), third);
    expect(driver!.stats()).toMatchObject({ ok: true, fullFramesSent: 2, rectsSent: 0 });
  });

  it('fails cleanly against a silent line, and keeps failing cleanly', async () => {
    const { driver } = await open({
      simulator: false,
      driver: { ackTimeoutMs: 100, maxRetries: 2, writeTimeoutMs: 300 },
    });
    // Back to back, as the sign's render loop does; the pty fills up and stops draining too.
    const outcomes: string[] = [];
    for (const seed of [1, 2, 3]) {
      outcomes.push(
        await driver!.show(patternFrame(192, 64, seed)).then(
          () => 'shown',
          (err: Error) => err.message,
        ),
      );
    }
    expect(outcomes).toEqual(
      Array(3).fill(
        expect.stringMatching(/^FULL_FRAME \(seq \d+\) not acknowledged after 3 attempts: /),
      ),
    );
    await expect(driver!.setBrightness(50)).rejects.toThrow(/BRIGHTNESS 50%/);
    const stats = driver!.stats();
    expect(stats).toMatchObject({ ok: false, failures: 4, retries: 8, framesSent: 0 });
    expect(stats.lastError).toMatch(/no reply within 100 ms|write not drained in 300 ms/);
  });

  it('stop() ends a frame in flight without counting it as a panel failure', async () => {
    const { driver } = await open({ simulator: false, driver: { ackTimeoutMs: 5000 } });
    const showing = driver!.show(patternFrame(192, 64, 4));
    const outcome = showing.then(
      () => 'shown',
      (err: Error) => err.message,
    );
    await driver!.stop();
    expect(await outcome).toBe('panel link stopped');
    expect(driver!.stats()).toMatchObject({ failures: 0, framesSent: 0 });
    await expect(driver!.show(patternFrame(192, 64, 4))).rejects.toThrow('panel not started');
  });
});

describe('PanelSimulator against raw bytes on the pty', () => {
  async function rawHost() {
    const { pair, simulator } = await open({ driver: false });
    const link = new SerialPortLink({ path: pair.devicePath, baudRate: BAUD });
    const parser = new PacketParser();
    const replies: Packet[] = [];
    link.onData((chunk) => {
      for (const event of parser.push(chunk, performance.now())) {
        if (event.kind === 'packet') replies.push(event.packet);
      }
    });
    await link.open();
    const replyTo = async (seq: number) => {
      await vi.waitFor(() => expect(replies.some((r) => r.seq === seq)).toBe(true), {
        timeout: 5000,
      });
      return replies.find((r) => r.seq === seq)!;
    };
    return { link, simulator: simulator!, replyTo };
  }

  async function expectNak(reply: Promise<Packet>, reason: string) {
    const packet = await reply;
    expect(packet.type).toBe(PacketType.nak);
    expect(decodeNak(packet.payload)).toBe(reason);
  }

  it('counts garbage and NAKs every kind of bad packet, then keeps working', async () => {
    const { link, simulator, replyTo } = await rawHost();
    try {
      const garbage = Buffer.from([0x00, 0xff, 0xa5, 0x13, 0x37, 0x5a, 0x5a, 0xa5, 0x00]);
      await link.write(garbage);

      const damaged = brightnessPacket(70, 40);
      damaged[damaged.length - 1] = (damaged[damaged.length - 1] ?? 0) ^ 0x01;
      await link.write(damaged);
      await expectNak(replyTo(70), 'crc');

      await link.write(encodePacket(0x33, 71));
      await expectNak(replyTo(71), 'unknownType');

      const offPanel = Buffer.from([190, 0, 0, 0, 3, 0, 1, 0, 0x11, 0x10]); // 3x1 at x=190
      await link.write(encodePacket(PacketType.rect, 72, offPanel));
      await expectNak(replyTo(72), 'bounds');

      await link.write(encodePacket(PacketType.brightness, 73, Buffer.from([150])));
      await expectNak(replyTo(73), 'value');

      await link.write(encodePacket(PacketType.fullFrame, 74, Buffer.from([192, 0, 64, 0, 1])));
      await expectNak(replyTo(74), 'length');

      // Half a packet, then silence: the simulator must give up on it by itself.
      await link.write(brightnessPacket(75, 10).subarray(0, 7));
      await expectNak(replyTo(75), 'timeout');

      await link.write(brightnessPacket(76, 60));
      expect((await replyTo(76)).type).toBe(PacketType.ack);
      expect(simulator.brightness()).toBe(60);

      const stats = simulator.stats();
      expect(stats.rejected).toMatchObject({
        crc: 1,
        unknownType: 1,
        bounds: 1,
        value: 1,
        length: 1,
        timeout: 1,
      });
      expect(stats.skippedBytes).toBeGreaterThanOrEqual(garbage.length);
      expect(stats.accepted.brightness).toBe(1);
      expect(framesEqual(simulator.frame(), createFrame(192, 64))).toBe(true);
    } finally {
      await link.close();
    }
  });
});

describe('PanelSimulator glass PNG', () => {
  it('writes a PNG of width*scale x height*scale with the LEDs at their brightness', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stopsign-glass-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const pngPath = join(dir, 'var', 'panel.png');
    const truePngPath = join(dir, 'var', 'panel-true.png');
    const { driver, simulator } = await open({ simulator: { pngPath, truePngPath, scale: 8 } });
    const frame = createFrame(192, 64);
    frame.pixels[0] = 3; // red at the top-left LED
    frame.pixels[192 * 64 - 1] = 4; // white at the bottom-right LED
    await driver!.setBrightness(50);
    await driver!.show(frame);
    await vi.waitFor(() => expect(simulator!.stats().pngWrites).toBeGreaterThan(0));
    await simulator!.stop(); // and writes the latest picture if a write is still due

    const png = await readFile(pngPath);
    expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    const image = await loadImage(png);
    expect([image.width, image.height]).toEqual([192 * 8, 64 * 8]);

    const ctx = createCanvas(image.width, image.height).getContext('2d');
    ctx.drawImage(image, 0, 0);
    const pixel = (x: number, y: number) =>
      Array.from(ctx.getImageData(x, y, 1, 1).data.slice(0, 3));
    // 50 % duty cycle looks about 73 % as bright (gamma 2.2), as on real LEDs.
    const half = (rgb: readonly number[]) =>
      rgb.map((v) => Math.max(0x1c, Math.round(v * Math.pow(0.5, 1 / 2.2))));
    expect(pixel(4, 4)).toEqual(half(PALETTE[3]!)); // centre of the red dot
    expect(pixel(192 * 8 - 4, 64 * 8 - 4)).toEqual(half(PALETTE[4]!));
    expect(pixel(0, 0)).toEqual([0x0b, 0x0b, 0x0b]); // dark board between round dots

    // The true-size picture is exactly what the controller holds, one pixel per LED.
    const trueSize = await pngToFrame(await readFile(truePngPath));
    expect(trueSize && [trueSize.width, trueSize.height]).toEqual([192, 64]);
    expect(trueSize && framesEqual(trueSize, frame)).toBe(true);
  });
});
