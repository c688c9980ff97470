/**
 * Stop-and-wait delivery over a SerialLink: one packet in flight, retried on
 * NAK or silence until its ACK arrives or the retries run out. The panel
 * applies every command idempotently, so a retry after a lost ACK is harmless.
 */
import type { Logger } from 'pino';
import {
  decodeNak,
  PacketParser,
  PacketType,
  packetTypeName,
  type NakReasonName,
  type Packet,
} from './protocol';
import type { SerialLink } from './serialLink';

export interface StopAndWaitOptions {
  link: SerialLink;
  /** How long to wait for a reply once the packet has been written out. */
  ackTimeoutMs: number;
  /** Further attempts after the first one. */
  maxRetries: number;
  /** Bound on one write; a line that never drains must not hang the sender. */
  writeTimeoutMs: number;
  logger?: Logger;
}

export interface StopAndWaitStats {
  packetsSent: number;
  bytesSent: number;
  retries: number;
  naks: number;
  timeouts: number;
  /** Replies for a seq no longer in flight, or damaged replies: noise, or ACKs that came too late. */
  strayReplies: number;
  lastRoundTripMs?: number;
}

type Outcome =
  | { kind: 'reply'; packet: Packet }
  | { kind: 'nak'; reason: NakReasonName | 'unknown' }
  | { kind: 'timeout'; problem: string }
  | { kind: 'error'; problem: string }
  | { kind: 'stopped' };

interface Attempt {
  seq: number;
  finish(outcome: Outcome): void;
}

export class DeliveryError extends Error {
  override name = 'DeliveryError';
}

export class LinkStoppedError extends Error {
  override name = 'LinkStoppedError';
}

export class StopAndWait {
  private readonly parser = new PacketParser();
  private readonly counters: StopAndWaitStats = {
    packetsSent: 0,
    bytesSent: 0,
    retries: 0,
    naks: 0,
    timeouts: 0,
    strayReplies: 0,
  };
  private seq = 0;
  private waiting: Attempt | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private attached = false;
  private stopped = true;

  constructor(private readonly options: StopAndWaitOptions) {}

  /** Registers the reply listener (once per link) and accepts sends again. */
  start(): void {
    if (!this.attached) {
      this.options.link.onData((chunk) => this.receive(chunk));
      this.attached = true;
    }
    this.stopped = false;
  }

  /** Ends the packet in flight and refuses new ones. */
  stop(): void {
    this.stopped = true;
    this.waiting?.finish({ kind: 'stopped' });
  }

  stats(): StopAndWaitStats {
    return { ...this.counters };
  }

  /**
   * Sends the packet `build(seq)` returns and resolves with the panel's reply (ACK, or INFO for
   * HELLO). Sends are queued, so callers never have two packets in flight.
   */
  send(build: (seq: number) => Buffer, label: string): Promise<Packet> {
    const result = this.queue.then(() => this.deliver(build, label));
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async deliver(build: (seq: number) => Buffer, label: string): Promise<Packet> {
    const { maxRetries, ackTimeoutMs, logger } = this.options;
    this.seq = (this.seq + 1) & 0xff;
    const seq = this.seq;
    const bytes = build(seq);
    let problem = '';
    for (let attempt = 0; attempt <= maxRetries; attempt++) {
      if (this.stopped) throw new LinkStoppedError('panel link stopped');
      if (attempt > 0) this.counters.retries++;
      const startedAt = performance.now();
      const outcome = await this.attempt(seq, bytes);
      switch (outcome.kind) {
        case 'reply':
          this.counters.packetsSent++;
          this.counters.lastRoundTripMs = performance.now() - startedAt;
          return outcome.packet;
        case 'stopped':
          throw new LinkStoppedError('panel link stopped');
        case 'nak':
          this.counters.naks++;
          problem = `NAK ${outcome.reason}`;
          // A busy controller needs time, not an immediate resend.
          if (outcome.reason === 'busy') await delay(ackTimeoutMs);
          break;
        case 'timeout':
          this.counters.timeouts++;
          problem = outcome.problem;
          break;
        case 'error':
          problem = outcome.problem;
          break;
      }
      logger?.debug({ label, seq, attempt, problem }, 'panel packet not acknowledged');
    }
    throw new DeliveryError(
      `${label} (seq ${seq}) not acknowledged after ${maxRetries + 1} attempts: ${problem}`,
    );
  }

  private attempt(seq: number, bytes: Buffer): Promise<Outcome> {
    const { link, ackTimeoutMs, writeTimeoutMs } = this.options;
    return new Promise<Outcome>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const attempt: Attempt = {
        seq,
        finish: (outcome) => {
          if (this.waiting !== attempt) return;
          this.waiting = undefined;
          clearTimeout(timer);
          resolve(outcome);
        },
      };
      // Listen before writing: the reply can arrive before the drain callback.
      this.waiting = attempt;
      timer = setTimeout(
        () =>
          attempt.finish({ kind: 'timeout', problem: `write not drained in ${writeTimeoutMs} ms` }),
        writeTimeoutMs,
      );
      link.write(bytes).then(
        () => {
          this.counters.bytesSent += bytes.length;
          if (this.waiting !== attempt) return;
          clearTimeout(timer);
          timer = setTimeout(
            () =>
              attempt.finish({ kind: 'timeout', problem: `no reply within ${ackTimeoutMs} ms` }),
            ackTimeoutMs,
          );
        },
        (err: unknown) =>
          attempt.finish({
            kind: 'error',
            problem: `write failed: ${err instanceof Error ? err.message : String(err)}`,
          }),
      );
    });
  }

  private receive(chunk: Buffer): void {
    for (const event of this.parser.push(chunk, performance.now())) {
      if (event.kind === 'rejected') this.counters.strayReplies++;
      if (event.kind !== 'packet') continue;
      const { packet } = event;
      const waiting = this.waiting;
      if (!waiting || packet.seq !== waiting.seq) {
        this.counters.strayReplies++;
        continue;
      }
      if (packet.type === PacketType.nak) {
        waiting.finish({ kind: 'nak', reason: decodeNak(packet.payload) });
      } else if (packet.type === PacketType.ack || packet.type === PacketType.info) {
        waiting.finish({ kind: 'reply', packet });
      } else {
        this.options.logger?.debug(
          { type: packetTypeName(packet.type) ?? packet.type },
          'unexpected packet from panel',
        );
        this.counters.strayReplies++;
      }
    }
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
