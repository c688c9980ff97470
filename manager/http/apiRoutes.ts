/**
 * The operator-facing HTTP API. Every body is validated against the schemas
 * in shared/; every route names the role it needs (see access/routeAccess.ts).
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { postAnnouncementRequest, registerSignRequest, type StoredTarget } from '../../shared';
import { SignProvisioning } from '../access/signProvisioning';
import { pngSize } from '../fleet/framePng';
import { summarizeSign } from '../fleet/fleetView';
import { registerRolloutRoutes } from '../rollout/rolloutRoutes';
import type { ManagerServices } from '../services';
import { requires } from './access/routeAccess';
import { resolveTarget, signsReached } from './announcementTargets';
import { registerGtfsUpload } from './gtfsUpload';
import { actor, badRequest, sendKnownError } from './routes/replies';

/**
 * Characters of an announcement that some targeted sign cannot draw: the sign
 * shows a replacement, and the operator hears about it now.
 */
async function glyphWarnings(
  services: ManagerServices,
  target: StoredTarget,
  texts: string[],
): Promise<{ profile: string; characters: string[]; message: string }[]> {
  const signs = await signsReached(services, target);
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
  if (services.rollouts) registerRolloutRoutes(app, services.rollouts);

  app.get('/api/health', requires('viewer', 'fleet'), async () => ({
    ok: true,
    brokerConnected: services.link.connected,
    rejectedMessages: services.link.rejections.snapshot(),
    /** Statuses and frames from signs this manager handled (its part when several share a broker). */
    received: services.link.received,
    cluster: services.share.report(),
    /** Connections and packets the broker refused; null when the broker counts them itself. */
    brokerRefusals: services.broker.refusals(),
    schedule: services.schedule.summary() ?? null,
    timetableWarnings: services.timetableWarnings(),
  }));

  app.get('/api/signs', requires('viewer', 'fleet'), async () => {
    const signs = await services.signs.list();
    const provisioning = await services.provisioning.status(signs.map((s) => s.deviceId));
    return signs.map((s) => ({
      ...summarizeSign(s, nowSeconds(), services.offlineAfterSeconds),
      provisioning: provisioning.get(s.deviceId) ?? null,
      refusedByBroker: services.broker.refusalsFor(s.deviceId),
    }));
  });

  app.post('/api/signs', requires('maintenance', 'signs'), async (request, reply) => {
    const body = registerSignRequest.safeParse(request.body);
    if (!body.success) return badRequest(reply, body.error);
    try {
      const [result] = await services.provisioning.register(actor(request), [body.data]);
      if (!result) throw new Error('registering returned nothing');
      const { sign, claim } = result;
      // A new sign's claim code is shown once, with its QR code for the installer's label.
      const qrPng = claim ? (await SignProvisioning.qrPng(claim.claim)).toString('base64') : null;
      return reply.code(201).send({
        ...summarizeSign(sign, nowSeconds(), services.offlineAfterSeconds),
        claim: claim ? { ...claim, qrPng } : null,
      });
    } catch (err) {
      return sendKnownError(reply, err);
    }
  });

  app.get<{ Params: { deviceId: string } }>(
    '/api/signs/:deviceId/frame.png',
    requires('viewer', 'fleet'),
    async (request, reply) => {
      const png = await services.signs.lastFrame(request.params.deviceId);
      // Checked again on the way out: a frame stored before frames were checked is not served.
      if (!png || !pngSize(png)) {
        return reply.code(404).send({ error: 'no frame received from this sign yet' });
      }
      return reply.header('cache-control', 'no-store').type('image/png').send(png);
    },
  );

  app.get('/api/announcements', requires('viewer', 'fleet'), async () =>
    services.announcements.active(nowSeconds()),
  );

  app.post('/api/announcements', requires('operator', 'announcements'), async (request, reply) => {
    const body = postAnnouncementRequest.safeParse(request.body);
    if (!body.success) return badRequest(reply, body.error);
    const { text, priority, durationSeconds, startsAt, tts } = body.data;
    const verdict = await resolveTarget(services, request.principal, body.data.target);
    if (!verdict.ok) return reply.code(verdict.status).send({ error: verdict.error });
    const { target } = verdict;
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
    await services.audit.record(actor(request), {
      action: 'announcement.post',
      target: { kind: 'announcement', id: record.announcementId },
      after: record,
    });
    await services.publisher.announcementsChanged(target);
    const warnings = await glyphWarnings(services, target, [text.en, text.zh ?? '']);
    return reply.code(201).send(warnings.length > 0 ? { ...record, warnings } : record);
  });

  app.delete<{ Params: { id: string } }>(
    '/api/announcements/:id',
    requires('operator', 'announcements'),
    async (request, reply) => {
      const record = await services.announcements.withdraw(request.params.id);
      if (!record) return reply.code(404).send({ error: 'no such announcement' });
      await services.audit.record(actor(request), {
        action: 'announcement.withdraw',
        target: { kind: 'announcement', id: record.announcementId },
        before: { target: record.target, text: record.text, priority: record.priority },
      });
      await services.publisher.announcementsChanged(record.target);
      return record;
    },
  );

  app.get('/api/gtfs', requires('viewer', 'fleet'), async () => {
    const summary = services.schedule.summary();
    return summary ? { ...summary, coverageWarnings: services.timetableWarnings() } : null;
  });

  registerGtfsUpload(app, services);
}
