/** The operator-facing HTTP API. Every body is validated against the schemas in shared/. */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import {
  postAnnouncementRequest,
  registerSignRequest,
  type AnnouncementTarget,
} from '../../shared';
import { StopsDroppedError } from '../gtfs/feedChecks';
import { summarizeSign } from '../fleet/fleetView';
import type { ManagerServices } from '../services';

function badRequest(reply: FastifyReply, error: z.ZodError): FastifyReply {
  return reply.code(400).send({ error: 'invalid request', detail: z.prettifyError(error) });
}

/**
 * Characters of an announcement that some targeted sign cannot draw: the sign
 * shows a replacement, and the operator hears about it now.
 */
async function glyphWarnings(
  services: ManagerServices,
  target: AnnouncementTarget,
  texts: string[],
): Promise<{ profile: string; characters: string[]; message: string }[]> {
  const signs =
    'deviceId' in target
      ? [await services.signs.get(target.deviceId)].filter((s) => s !== undefined)
      : await services.signs.byStop(target.stopId);
  const profiles = [...new Set(signs.map((s) => s.panelProfile))]
    .map((id) => services.panelProfiles.get(id))
    .filter((p) => p !== undefined);
  return services.glyphs.gaps(texts, profiles).map((gap) => ({
    ...gap,
    message: `${gap.profile} cannot draw ${gap.characters.join(' ')}: shown replaced`,
  }));
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
    const { deviceId, stopId, label, panelProfile } = body.data;
    if (panelProfile !== undefined && !services.panelProfiles.has(panelProfile)) {
      return reply.code(422).send({
        error: `no panel profile ${panelProfile}; known: ${[...services.panelProfiles.keys()].join(', ')}`,
      });
    }
    if (services.schedule.hasSchedule() && !services.schedule.stop(stopId)) {
      return reply.code(422).send({ error: `stop ${stopId} is not in the imported schedule` });
    }
    const sign = await services.signs.register(deviceId, stopId, label, nowSeconds(), panelProfile);
    await services.publisher.signChanged(sign);
    return reply.code(201).send(summarizeSign(sign, nowSeconds(), services.offlineAfterSeconds));
  });

  app.get<{ Params: { deviceId: string } }>(
    '/api/signs/:deviceId/frame.png',
    async (request, reply) => {
      const png = await services.signs.lastFrame(request.params.deviceId);
      if (!png) return reply.code(404).send({ error: 'no frame received from this sign yet' });
      return reply.header('cache-control', 'no-store').type('image/png').send(png);
    },
  );

  app.get('/api/announcements', async () => services.announcements.active(nowSeconds()));

  app.post('/api/announcements', async (request, reply) => {
    const body = postAnnouncementRequest.safeParse(request.body);
    if (!body.success) return badRequest(reply, body.error);
    const { target, text, priority, durationSeconds, startsAt, tts } = body.data;
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
      ...(tts ? { tts } : {}),
    };
    await services.announcements.add(record);
    await services.publisher.announcementsChanged(target);
    const warnings = await glyphWarnings(services, target, [text.en, text.zh ?? '']);
    return reply.code(201).send(warnings.length > 0 ? { ...record, warnings } : record);
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

  app.post('/api/gtfs', async (request, reply) => {
    if (!Buffer.isBuffer(request.body)) {
      return reply.code(415).send({ error: 'send the GTFS zip as application/zip' });
    }
    const query = z
      .object({
        force: z.enum(['true', '1']).optional(),
        /** What the summary names as the feed's origin, e.g. a file name. */
        source: z.string().min(1).max(300).optional(),
      })
      .safeParse(request.query);
    if (!query.success) return badRequest(reply, query.error);
    try {
      const summary = await services.importFeed(request.body, query.data.source ?? 'upload', {
        force: query.data.force !== undefined,
      });
      await services.publisher.scheduleChanged();
      return reply.code(201).send(summary);
    } catch (err) {
      if (err instanceof StopsDroppedError) {
        return reply.code(409).send({ error: err.message, signs: err.signs });
      }
      // The previous timetable stays in place; the operator gets the reason.
      return reply.code(422).send({ error: (err as Error).message });
    }
  });
}
