/**
 * Follows MQTT packet boundaries in a byte stream by reading each fixed
 * header's remaining length (MQTT 3.1.1 §2.2.3, the same in 5.0), so a
 * receiver learns a packet's size from its first bytes and can hang up before
 * buffering a 256 MB PUBLISH. Pure: it only counts bytes.
 */
export class MqttPacketSizeGuard {
  /** Bytes of the current packet still to skip (its body). */
  private remaining = 0;
  /** Reading the remaining-length varint: its value so far and the next multiplier. */
  private length = 0;
  private multiplier = 1;
  private state: 'type' | 'length' | 'body' = 'type';

  constructor(readonly maxPacketBytes: number) {}

  /** The size of the first packet in the stream over the limit, or undefined while all fit. */
  feed(chunk: Uint8Array): number | undefined {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 'body') {
        const take = Math.min(this.remaining, chunk.length - i);
        this.remaining -= take;
        i += take;
        if (this.remaining === 0) this.state = 'type';
        continue;
      }
      const byte = chunk[i++] ?? 0;
      if (this.state === 'type') {
        this.state = 'length';
        this.length = 0;
        this.multiplier = 1;
        continue;
      }
      this.length += (byte & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      if (byte & 0x80) {
        // At most four length bytes; a fifth means the stream is not MQTT.
        if (this.multiplier > 128 ** 4) return Number.POSITIVE_INFINITY;
        continue;
      }
      const size = 1 + Math.log2(this.multiplier) / 7 + this.length;
      if (size > this.maxPacketBytes) return size;
      this.remaining = this.length;
      this.state = this.remaining === 0 ? 'type' : 'body';
    }
    return undefined;
  }
}

/** The part of a byte stream the watcher needs: its data and a way to end it. */
export interface InboundStream {
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  destroy(error?: Error): unknown;
}

/**
 * Ends `stream` with an error as soon as a packet's header announces more than
 * `maxPacketBytes`. Registered before the MQTT client's own parser, it sees
 * each chunk first, so the oversized body is never buffered.
 */
export function limitInboundPackets(
  stream: InboundStream,
  maxPacketBytes: number,
  onRefused: (size: number) => void,
): void {
  const guard = new MqttPacketSizeGuard(maxPacketBytes);
  stream.on('data', (chunk) => {
    const tooLarge = guard.feed(chunk);
    if (tooLarge === undefined) return;
    onRefused(tooLarge);
    stream.destroy(
      new Error(`MQTT packet of ${tooLarge} bytes over the ${maxPacketBytes}-byte limit`),
    );
  });
}

/**
 * Applies limitInboundPackets to every connection an mqtt.js client makes
 * (its first and each reconnect). The client must be created with
 * manualConnect and connected after this; mqtt.js builds each connection's
 * stream through its `streamBuilder`, which is wrapped here.
 */
export function limitClientPackets(
  client: object,
  maxPacketBytes: number,
  onRefused: (size: number) => void,
): void {
  const holder = client as { streamBuilder: (client: object) => InboundStream };
  const build = holder.streamBuilder.bind(client);
  holder.streamBuilder = (c) => {
    const stream = build(c);
    limitInboundPackets(stream, maxPacketBytes, onRefused);
    return stream;
  };
}
