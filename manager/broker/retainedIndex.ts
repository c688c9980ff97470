/**
 * aedes' in-memory persistence finds the retained messages for a subscription
 * by testing every retained topic against it. A sign subscribes to six exact
 * topics, and a fleet retains a config and a status per sign and three topics
 * per stop, so each sign connecting paid a pass over the whole fleet's
 * retained messages: a connect storm of N signs cost O(N²). Here exact topics
 * (every filter a sign uses) are looked up in a map; filters with wildcards
 * (the manager's) still take the full pass.
 */
import { Readable } from 'node:stream';
import memory, { type AedesMemoryPersistence, type Packet } from 'aedes-persistence';

/** What aedes retains: always a PUBLISH, so it has a topic and a payload. */
type RetainedPacket = Packet & { topic: string; payload: Buffer };

const hasWildcard = (filter: string): boolean => filter.includes('+') || filter.includes('#');

export function indexedRetainedPersistence(): AedesMemoryPersistence {
  const persistence = memory();
  const retained = new Map<string, RetainedPacket>();
  const storeRetained = persistence.storeRetained.bind(persistence);
  const scan = persistence.createRetainedStreamCombi.bind(persistence);

  // Kept in step with the persistence's own map: same copy, same removal on an empty payload.
  persistence.storeRetained = ((packet: RetainedPacket, ...rest: unknown[]) => {
    if (packet.payload.length === 0) retained.delete(packet.topic);
    else retained.set(packet.topic, Object.assign({}, packet));
    return (storeRetained as (...args: unknown[]) => unknown)(packet, ...rest);
  }) as AedesMemoryPersistence['storeRetained'];

  persistence.createRetainedStreamCombi = (patterns: string[]): Readable => {
    const wild = patterns.filter(hasWildcard);
    const exact = patterns
      .filter((p) => !hasWildcard(p))
      .flatMap((p) => {
        const packet = retained.get(p);
        return packet ? [packet] : [];
      });
    if (wild.length === 0) return Readable.from(exact);
    return Readable.from(concat(exact, scan(wild)));
  };
  return persistence;
}

async function* concat(first: Packet[], rest: Readable): AsyncGenerator<Packet> {
  yield* first;
  for await (const packet of rest) yield packet as Packet;
}
