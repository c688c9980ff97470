/** HTTP routes of realtime: push a feed, see each feed's health, see what a stop's signs were sent. */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { requires } from '../http/access/routeAccess';
import type { ManagerServices } from '../services';

const pushQuery = z.object({
  kind: z.enum(['tripUpdates', 'vehiclePositions', 'alerts', 'combined']).default('combined'),
});

export function registerRealtimeRoutes(app: FastifyInstance, services: ManagerServices): void {
  const { realtime } = services;

  // A feed pusher is an admin token scoped to realtime, or an admin.
  app.post('/api/realtime', requires('admin', 'realtime'), async (request, reply) => {
    const query = pushQuery.safeParse(request.query);
    if (!query.success) {
      return reply
        .code(400)
        .send({ error: 'invalid request', detail: z.prettifyError(query.error) });
    }
    if (!Buffer.isBuffer(request.body)) {
      return reply
        .code(415)
        .send({ error: 'send the GTFS-realtime feed as application/x-protobuf' });
    }
    const result = realtime.service.ingest(request.body, 'push', query.data.kind);
    if (!result.ok) return reply.code(422).send({ error: result.reason, kinds: result.kinds });
    await realtime.feedChanged();
    return reply.code(202).send({ accepted: result.kinds, feeds: realtime.service.report() });
  });

  app.get('/api/realtime', requires('viewer', 'fleet'), async () => ({
    feeds: realtime.service.report(),
  }));

  app.get<{ Params: { stopId: string } }>(
    '/api/stops/:stopId/arrivals',
    requires('viewer', 'fleet'),
    async (request, reply) => {
      const sent = realtime.boards.lastSent(request.params.stopId);
      if (!sent) {
        return reply.code(404).send({ error: `nothing was sent to stop ${request.params.stopId}` });
      }
      return sent;
    },
  );
}
