/**
 * Encoding and validation of protocol messages. Decoding never throws: every
 * failure comes back as a reason a receiver can log and count.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import {
  dataSchemas,
  envelopeHeader,
  maxPayloadBytes,
  PROTOCOL_VERSION,
  type DataInputOf,
  type DataOf,
  type Envelope,
} from './schemas';
import type { TopicKind } from './topics';

export type RejectReason =
  | 'oversized'
  | 'empty'
  | 'not-json'
  | 'bad-version'
  | 'invalid'
  /** Times too far from the receiver's clock to be true (a sign keeps such a message forever). */
  | 'implausible-time'
  /** A "manager offline" naming another manager than the one the sign knows is online. */
  | 'not-from-manager';

export type DecodeResult<K extends TopicKind> =
  { ok: true; message: Envelope<DataOf<K>> } | { ok: false; reason: RejectReason; detail: string };

/** The body field that must name the same device or stop as the topic it arrived on. */
const topicIdField: Partial<Record<TopicKind, 'deviceId' | 'stopId'>> = {
  deviceStatus: 'deviceId',
  deviceConfig: 'deviceId',
  deviceUpdateOffer: 'deviceId',
  deviceUpdateStatus: 'deviceId',
  deviceUpdateEvent: 'deviceId',
  stopArrivals: 'stopId',
  stopSchedule: 'stopId',
  stopAlerts: 'stopId',
};

/**
 * Checks size, JSON, envelope, version and schema. With `topicId` (from
 * parseTopic) it also refuses a body naming another device or stop than its
 * topic, so a misrouted message can never be taken for this sign's or stop's.
 */
export function decodeMessage<K extends TopicKind>(
  kind: K,
  payload: Uint8Array | string,
  topicId?: string,
): DecodeResult<K> {
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.byteLength;
  if (size > maxPayloadBytes[kind]) {
    return { ok: false, reason: 'oversized', detail: `${size} bytes > ${maxPayloadBytes[kind]}` };
  }
  if (size === 0) return { ok: false, reason: 'empty', detail: 'zero-length payload' };
  let json: unknown;
  try {
    json = JSON.parse(
      typeof payload === 'string' ? payload : Buffer.from(payload).toString('utf8'),
    );
  } catch (err) {
    return { ok: false, reason: 'not-json', detail: (err as Error).message };
  }
  const header = envelopeHeader.safeParse(json);
  if (!header.success) {
    return { ok: false, reason: 'invalid', detail: `envelope: ${z.prettifyError(header.error)}` };
  }
  if (header.data.v !== PROTOCOL_VERSION) {
    return {
      ok: false,
      reason: 'bad-version',
      detail: `schema version ${header.data.v}, this side speaks ${PROTOCOL_VERSION}`,
    };
  }
  const data = dataSchemas[kind].safeParse(header.data.data);
  if (!data.success) {
    return { ok: false, reason: 'invalid', detail: z.prettifyError(data.error) };
  }
  const field = topicIdField[kind];
  if (topicId !== undefined && field !== undefined) {
    const named = (data.data as Record<string, unknown>)[field];
    if (named !== topicId) {
      return {
        ok: false,
        reason: 'invalid',
        detail: `${field} ${String(named)} does not match the topic's ${topicId}`,
      };
    }
  }
  return {
    ok: true,
    message: {
      v: PROTOCOL_VERSION,
      id: header.data.id,
      sentAt: header.data.sentAt,
      data: data.data as DataOf<K>,
    },
  };
}

export interface EncodeOptions {
  id?: string;
  sentAt?: number;
}

/** Validates outbound data too: a bug on our side must not reach a thousand signs. */
export function encodeMessage<K extends TopicKind>(
  kind: K,
  data: DataInputOf<K>,
  options: EncodeOptions = {},
): string {
  const parsed = dataSchemas[kind].safeParse(data);
  if (!parsed.success) throw new Error(`${kind} not sent: ${z.prettifyError(parsed.error)}`);
  const envelope: Envelope<unknown> = {
    v: PROTOCOL_VERSION,
    id: options.id ?? randomUUID(),
    sentAt: options.sentAt ?? Date.now(),
    data: parsed.data,
  };
  const text = JSON.stringify(envelope);
  if (Buffer.byteLength(text) > maxPayloadBytes[kind]) {
    throw new Error(`${kind} message of ${Buffer.byteLength(text)} bytes exceeds its limit`);
  }
  return text;
}

/** Counts rejected inbound messages by topic kind and reason, for status and metrics. */
export class RejectionCounter {
  private readonly counts = new Map<string, number>();

  record(kind: TopicKind | 'unknown-topic', reason: RejectReason | 'unknown-topic'): void {
    const key = `${kind}:${reason}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  total(): number {
    let sum = 0;
    for (const n of this.counts.values()) sum += n;
    return sum;
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }
}
