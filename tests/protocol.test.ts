/** shared/: the topic tree and the codec both sides validate every message with. */
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage, parseTopic, RejectionCounter, topics } from '../shared';

const arrivals = (stopId: string) => ({
  stopId,
  generatedAt: 1_795_600_000,
  arrivals: [
    {
      tripId: 't1',
      routeId: 'R1',
      route: '1',
      headsign: { en: 'Airport', zh: '機場' },
      time: 1_795_600_300,
      scheduledTime: 1_795_600_240,
      source: 'live' as const,
    },
  ],
});

describe('topics', () => {
  it('keeps odd GTFS stop ids inside one topic level and reads them back', () => {
    for (const stopId of ['stop/42+A', '#1', 'plain', '中環']) {
      const topic = topics.stopArrivals(stopId);
      expect(topic.split('/')).toHaveLength(5);
      expect(topic).not.toMatch(/[+#]/);
      expect(parseTopic(topic)).toEqual({ kind: 'stopArrivals', id: stopId });
    }
    expect(parseTopic(topics.managerStatus())).toEqual({ kind: 'managerStatus', id: '' });
    expect(parseTopic('stopsign/v1/stop/x/arrivals')).toBeNull();
    expect(parseTopic('stopsign/v2/stop/x/elsewhere')).toBeNull();
    expect(parseTopic('stopsign/v2/stop/%E0%A4%A/arrivals')).toBeNull();
  });
});

describe('codec', () => {
  it('round-trips a message in its versioned envelope', () => {
    const text = encodeMessage('stopArrivals', arrivals('CEN'), { id: 'm1', sentAt: 5 });
    const decoded = decodeMessage('stopArrivals', Buffer.from(text), 'CEN');
    expect(decoded).toEqual({
      ok: true,
      message: { v: 2, id: 'm1', sentAt: 5, data: arrivals('CEN') },
    });
  });

  it('names the reason for every kind of bad payload', () => {
    const good = JSON.parse(encodeMessage('stopArrivals', arrivals('CEN'))) as Record<
      string,
      unknown
    >;
    const reasonOf = (payload: string | Buffer, topicId?: string) => {
      const result = decodeMessage('stopArrivals', payload, topicId);
      return result.ok ? 'ok' : result.reason;
    };
    expect(reasonOf('')).toBe('empty');
    expect(reasonOf('{"v":1,')).toBe('not-json');
    expect(reasonOf(JSON.stringify({ ...good, v: 1 }))).toBe('bad-version');
    expect(reasonOf(JSON.stringify({ ...good, data: { stopId: 'CEN' } }))).toBe('invalid');
    expect(reasonOf(JSON.stringify({ data: good.data }))).toBe('invalid');
    expect(reasonOf(Buffer.alloc(65 * 1024, 0x20))).toBe('oversized');
    // A body about another stop, on this stop's topic, is not taken for this stop.
    expect(reasonOf(JSON.stringify(good), 'OTHER')).toBe('invalid');
    expect(reasonOf(JSON.stringify(good), 'CEN')).toBe('ok');
  });

  it('refuses to send what it would refuse to receive', () => {
    expect(() => encodeMessage('stopArrivals', { ...arrivals('CEN'), generatedAt: -1 })).toThrow();
  });

  it('counts rejections by kind and reason', () => {
    const counter = new RejectionCounter();
    counter.record('stopArrivals', 'not-json');
    counter.record('stopArrivals', 'not-json');
    counter.record('unknown-topic', 'unknown-topic');
    expect(counter.snapshot()).toEqual({
      'stopArrivals:not-json': 2,
      'unknown-topic:unknown-topic': 1,
    });
    expect(counter.total()).toBe(3);
  });
});
