/** The operator-facing HTTP API. Every body is validated against the schemas in shared/. */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { postAnnouncementRequest, registerSignRequest } from '../../shared';
import { pngSize } from '../fleet/framePng';
import { summarizeSign } from '../fleet/fleetView';
import type { ManagerServices } from '../services';
import { registerGtfsUpload } from './gtfsUpload';

function badRequest(reply: FastifyReply, error: z.ZodError): FastifyReply {
  return reply.code(400).send({ error: 'invalid request', detail: z.prettifyError(error) });
}

export function registerApiRoutes(app: FastifyInstance, services: ManagerServices): void {
  const nowSeconds = (): number => Math.floor(services.clock() / 1000);

  app.get('/api/health', async () => ({
    ok: true,
    brokerConnected: services.link.connected,
    rejectedMessages: services.link.rejections.snapshot(),
    schedule: services.schedule.summary() ?? null,
    timetableWarnings: services.timetableWarnings(),
  }));

  app.get('/api/signs', async () =>
    (await services.signs.list()).map((s) =>
      summarizeSign(s, nowSeconds(), services.offlineAfterSeconds),
    ),
  );

  app.post('/api/signs', async (request, reply) => {
    const body = registerSignRequest.safeParse(request.body);
    if (!body.success) return badRequest(reply, body.error);
    const { deviceId, stopId, label } = body.data;
    if (services.schedule.hasSchedule() && !services.schedule.stop(stopId)) {
      return reply.code(422).send({ error: `stop ${stopId} is not in the imported schedule` });
    }
    const sign = await services.signs.register(deviceId, stopId, label, nowSeconds());
    await services.publisher.signChanged(sign);
    return reply.code(201).send(summarizeSign(sign, nowSeconds(), services.offlineAfterSeconds));
  });

  app.get<{ Params: { deviceId: string } }>(
    '/api/signs/:deviceId/frame.png',
    async (request, reply) => {
      const png = await services.signs.lastFrame(request.params.deviceId);
      // Checked again on the way out: a frame stored before frames were checked is not served.
      if (!png || !pngSize(png)) {
        return reply.code(404).send({ error: 'no frame received from this sign yet' });
      }
      return reply.header('cache-control', 'no-store').type('image/png').send(png);
    },
  );

  app.get('/api/announcements', async () => services.announcements.active(nowSeconds()));

  app.post('/api/announcements', async (request, reply) => {
    const body = postAnnouncementRequest.safeParse(request.body);
    if (!body.success) return badRequest(reply, body.error);
    const { target, text, priority, durationSeconds, startsAt } = body.data;
    if ('deviceId' in target && !(await services.signs.get(target.deviceId))) {
      return reply.code(404).send({ error: `no sign ${target.deviceId} is registered` });
    }
    if ('stopId' in target && (await services.signs.byStop(target.stopId)).length === 0) {
      return reply.code(404).send({ error: `no sign is registered at stop ${target.stopId}` });
    }
    const now = nowSeconds();
    const record = {
      announcementId: randomUUID(),
      target,
      text,
      priority,
      expiresAt: (startsAt ?? now) + durationSeconds,
      createdAt: now,
      ...(startsAt !== undefined ? { startsAt } : {}),
    };
    await services.announcements.add(record);
    await services.publisher.announcementsChanged(target);
    return reply.code(201).send(record);
  });

  app.delete<{ Params: { id: string } }>('/api/announcements/:id', async (request, reply) => {
    const record = await services.announcements.withdraw(request.params.id);
    if (!record) return reply.code(404).send({ error: 'no such announcement' });
    await services.publisher.announcementsChanged(record.target);
    return record;
  });

  app.get('/api/gtfs', async () => {
    const summary = services.schedule.summary();
    return summary ? { ...summary, coverageWarnings: services.timetableWarnings() } : null;
  });

  registerGtfsUpload(app, services);
}
