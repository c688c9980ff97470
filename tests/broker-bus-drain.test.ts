/**
 * The embedded broker's message bus when a whole fleet comes back at once:
 * every reconnecting sign puts one "$SYS/…/new/clients" message on the bus,
 * they queue behind the messages in flight, and each is answered at once.
 * aedes' stock bus drains that queue by recursion and overflows the stack (the
 * manager and its broker died this way at 10,000 signs); the broker's own bus
 * drains it whole, in order.
 */
import mqemitter from 'mqemitter';
import { describe, expect, it } from 'vitest';
import { flatEmitter } from '../manager/broker/flatEmitter';

const CONCURRENCY = 100;
const RECONNECTS = 100_000;

interface Outcome {
  /** What releasing one message in flight threw, if anything. */
  thrown: unknown;
  /** Client ids in the order the bus delivered them. */
  delivered: string[];
  /** Emit callbacks called. */
  acknowledged: number;
}

/** Fills the bus with slow messages, queues a fleet's reconnects behind them, frees one slot. */
async function reconnectStorm(bus: mqemitter.MQEmitter): Promise<Outcome> {
  const inFlight: (() => void)[] = [];
  const delivered: string[] = [];
  let acknowledged = 0;
  bus.on('slow/#', (_message, done) => inFlight.push(done));
  bus.on('$SYS/+/new/clients', (message, done) => {
    delivered.push(String(message.payload));
    done();
  });
  for (let i = 0; i < CONCURRENCY; i++) bus.emit({ topic: `slow/${i}` });
  // Let the subscriptions settle as aedes' do (mqemitter adds them at once, confirms later).
  await new Promise((resolve) => setImmediate(resolve));
  for (let i = 0; i < RECONNECTS; i++) {
    bus.emit({ topic: '$SYS/broker/new/clients', payload: `sign-${i}` }, () => acknowledged++);
  }
  let thrown: unknown;
  try {
    inFlight.shift()?.();
  } catch (err) {
    thrown = err;
  }
  // What the bus put off to later turns of the event loop.
  for (let turn = 0; turn < RECONNECTS && delivered.length < RECONNECTS && !thrown; turn++) {
    await new Promise((resolve) => setImmediate(resolve));
  }
  return { thrown, delivered, acknowledged };
}

describe('the embedded broker bus, a fleet reconnecting at once', () => {
  it('overflows the stack on the bus aedes ships with (why the broker brings its own)', async () => {
    const outcome = await reconnectStorm(mqemitter({ concurrency: CONCURRENCY }));
    expect(outcome.thrown).toBeInstanceOf(RangeError);
    expect((outcome.thrown as Error).message).toMatch(/call stack/);
    expect(outcome.delivered.length).toBeLessThan(RECONNECTS);
  });

  it("delivers every reconnect, in order, on the broker's bus", async () => {
    const outcome = await reconnectStorm(flatEmitter(CONCURRENCY));
    expect(outcome.thrown).toBeUndefined();
    expect(outcome.delivered).toHaveLength(RECONNECTS);
    expect(outcome.acknowledged).toBe(RECONNECTS);
    const outOfOrder = outcome.delivered.findIndex((id, i) => id !== `sign-${i}`);
    expect(outOfOrder).toBe(-1);
  });

  it('lets messages emitted meanwhile queue behind the drain instead of overtaking it', async () => {
    const bus = flatEmitter(CONCURRENCY);
    const outcome = reconnectStorm(bus);
    // Emitted while the drain waits for its next turn: it must come last.
    await new Promise((resolve) => setImmediate(resolve));
    bus.emit({ topic: '$SYS/broker/new/clients', payload: 'late' });
    const { delivered } = await outcome;
    await new Promise((resolve) => setImmediate(resolve));
    expect(delivered.at(-1)).toBe('late');
    expect(delivered).toHaveLength(RECONNECTS + 1);
  });
});
