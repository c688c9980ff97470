/** Cost of validating protocol messages at the MQTT boundary. */
import { decodeMessage, encodeMessage } from '../shared';
import { printFigures, timePerCall } from './measure';

export function benchCodec(): void {
  const now = 1_795_600_000;
  const payload = Buffer.from(
    encodeMessage('stopArrivals', {
      stopId: 'CEN',
      generatedAt: now,
      arrivals: Array.from({ length: 50 }, (_, i) => ({
        tripId: `trip-${i}`,
        routeId: `R${i % 4}`,
        route: String(i % 4),
        headsign: { en: 'University', zh: '大學' },
        time: now + i * 60,
        scheduledTime: now + i * 60,
        source: i % 2 === 0 ? ('live' as const) : ('scheduled' as const),
      })),
    }),
  );
  const parseOnly = timePerCall(() => JSON.parse(payload.toString('utf8')), 5000);
  const decode = timePerCall(() => decodeMessage('stopArrivals', payload), 5000);
  printFigures(`protocol codec (arrivals message of 50 rows, ${payload.length} B)`, [
    {
      name: 'decodeMessage (size, JSON, version, schema)',
      value: decode * 1000,
      unit: 'µs',
      baseline: { name: 'JSON.parse', value: parseOnly * 1000 },
    },
  ]);
}
