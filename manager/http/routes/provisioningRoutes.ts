/** Provisioning: many signs at once, a sign's claim, re-provisioning, revocation, deletion. */
import type { FastifyInstance } from 'fastify';
import { claimRequest, registerSignsRequest, signIdParam } from '../../../shared';
import { SignProvisioning } from '../../access/signProvisioning';
import type { ManagerServices } from '../../services';
import { isPublic, requires } from '../access/routeAccess';
import { actor, badRequest, sendKnownError } from './replies';

export function registerProvisioningRoutes(app: FastifyInstance, services: ManagerServices): void {
  const { provisioning } = services;

  app.post('/api/signs/batch', requires('maintenance', 'signs'), async (request, reply) => {
    const body = registerSignsRequest.safeParse(request.body);
    if (!body.success) return badRequest(reply, body.error);
    try {
      const results = await provisioning.register(actor(request), body.data.signs);
      return reply.code(201).send(
        results.map(({ sign, claim }) => ({
          deviceId: sign.deviceId,
          stopId: sign.stopId,
          claim,
        })),
      );
    } catch (err) {
      return sendKnownError(reply, err);
    }
  });

  app.post(
    '/api/signs/:deviceId/reprovision',
    requires('maintenance', 'signs'),
    async (request, reply) => {
      const params = signIdParam.safeParse(request.params);
      if (!params.success) return badRequest(reply, params.error);
      try {
        const claim = await provisioning.reprovision(actor(request), params.data.deviceId);
        const qrPng = (await SignProvisioning.qrPng(claim.claim)).toString('base64');
        return reply.code(201).send({ deviceId: params.data.deviceId, claim: { ...claim, qrPng } });
      } catch (err) {
        return sendKnownError(reply, err);
      }
    },
  );

  app.post(
    '/api/signs/:deviceId/revoke',
    requires('maintenance', 'signs'),
    async (request, reply) => {
      const params = signIdParam.safeParse(request.params);
      if (!params.success) return badRequest(reply, params.error);
      try {
        await provisioning.revoke(actor(request), params.data.deviceId);
        return reply.code(204).send();
      } catch (err) {
        return sendKnownError(reply, err);
      }
    },
  );

  app.delete('/api/signs/:deviceId', requires('maintenance', 'signs'), async (request, reply) => {
    const params = signIdParam.safeParse(request.params);
    if (!params.success) return badRequest(reply, params.error);
    try {
      await provisioning.delete(actor(request), params.data.deviceId);
      return reply.code(204).send();
    } catch (err) {
      return sendKnownError(reply, err);
    }
  });

  // A factory-fresh sign has nothing but its claim code: this is the one door it may use.
  app.post('/api/claim', isPublic, async (request, reply) => {
    const verdict = services.claimThrottle.check('claim', request.ip);
    if (!verdict.allowed) {
      return reply
        .code(429)
        .header('retry-after', String(verdict.retryAfterSeconds))
        .send({ error: 'too many failed claims from this address' });
    }
    const body = claimRequest.safeParse(request.body);
    if (!body.success) return badRequest(reply, body.error);
    try {
      const answer = await provisioning.claim(body.data.code, request.ip);
      return reply.header('cache-control', 'no-store').send(answer);
    } catch (err) {
      services.claimThrottle.fail('claim', request.ip);
      return sendKnownError(reply, err);
    }
  });

  // Public by nature: a sign checks its fingerprint against the one in its claim before trusting it.
  app.get('/api/ca.pem', isPublic, async (_request, reply) =>
    reply.type('application/x-pem-file').send(services.tls.caPem),
  );
}
