/**
 * aedes' message bus (mqemitter) holds messages past its concurrency in a
 * queue and drains it by recursion: a message whose subscribers all finish at
 * once starts the next one on the same stack. Ten thousand signs coming back
 * together after a restart queue ten thousand "$SYS/…/new/clients" messages
 * whose one subscriber answers at once, and the drain overflows the stack,
 * killing the process that runs the broker (mcollina/mqemitter#204, still
 * open). This is the same bus with the drain cut every few dozen messages deep
 * and resumed on the next turn of the event loop. The cut message keeps its
 * place in the concurrency count meanwhile, so newer messages queue behind it
 * instead of overtaking it. Its queues take from the front in constant time:
 * an array's shift() copies the whole array once it is large, so draining
 * 100,000 queued messages took 8.6 s instead of a tenth of that.
 */
import mqemitter from 'mqemitter';

/** Messages started on one stack before the rest of the drain waits for the next turn. */
export const MAX_SYNC_DRAIN = 64;

type Message = mqemitter.Message;
type Start = (message: Message, callback: (err?: Error) => void) => unknown;

/** What mqemitter 7 keeps inside: the method emit() and the drain call, and its two queues. */
interface Internals {
  _do: Start;
  _messageQueue: unknown;
  _messageCallbacks: unknown;
}

/** A FIFO with the three things mqemitter asks of its queue arrays: push, shift, length. */
export class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): number {
    this.items.push(item);
    return this.length;
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    // Once the taken front is half the array, drop it: amortised constant time per item.
    if (this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}

export function flatEmitter(concurrency: number): mqemitter.MQEmitter {
  // As aedes builds its own: an empty topic level matches "+" [MQTT-4.7.1-3].
  const bus = mqemitter({ concurrency, matchEmptyLevels: true });
  const internals = bus as unknown as Internals;
  if (
    typeof internals._do !== 'function' ||
    !Array.isArray(internals._messageQueue) ||
    !Array.isArray(internals._messageCallbacks)
  ) {
    throw new Error('mqemitter is no longer built as flatEmitter expects: review it');
  }
  internals._messageQueue = new Fifo<Message>();
  internals._messageCallbacks = new Fifo<(err?: Error) => void>();
  const start = internals._do.bind(bus);
  let depth = 0;
  internals._do = (message, callback) => {
    if (depth >= MAX_SYNC_DRAIN) {
      bus.current++;
      setImmediate(() => {
        bus.current--;
        internals._do(message, callback);
      });
      return bus;
    }
    depth++;
    try {
      return start(message, callback);
    } finally {
      depth--;
    }
  };
  return bus;
}
