/** Operator accounts (admins) and API tokens (everyone their own; admins all). */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import {
  createOperatorRequest,
  createTokenRequest,
  updateOperatorRequest,
  username,
} from '../../../shared';
import type { ManagerServices } from '../../services';
import { requires } from '../access/routeAccess';
import { actor, badRequest, sendKnownError } from './replies';

const usernameParam = z.object({ username }).strict();
const tokenParam = z
  .object({ tokenId: z.string().regex(/^[0-9a-f]{12}$/, 'not a token id') })
  .strict();

export function registerOperatorRoutes(app: FastifyInstance, services: ManagerServices): void {
  const { accounts } = services;

  app.get('/api/operators', requires('admin', 'operators'), async () => accounts.list());

  app.post('/api/operators', requires('admin', 'operators'), async (request, reply) => {
    const body = createOperatorRequest.safeParse(request.body);
    if (!body.success) return badRequest(reply, body.error);
    try {
      return reply.code(201).send(await accounts.create(actor(request), body.data));
    } catch (err) {
      return sendKnownError(reply, err);
    }
  });

  app.patch('/api/operators/:username', requires('admin', 'operators'), async (request, reply) => {
    const params = usernameParam.safeParse(request.params);
    if (!params.success) return badRequest(reply, params.error);
    const body = updateOperatorRequest.safeParse(request.body);
    if (!body.success) return badRequest(reply, body.error);
    try {
      return await accounts.update(actor(request), params.data.username, body.data);
    } catch (err) {
      return sendKnownError(reply, err);
    }
  });

  app.get('/api/tokens', requires('viewer', 'tokens'), async (request) =>
    accounts.listTokens(request.principal),
  );

  app.post('/api/tokens', requires('viewer', 'tokens'), async (request, reply) => {
    const body = createTokenRequest.safeParse(request.body);
    if (!body.success) return badRequest(reply, body.error);
    try {
      const { token, record } = await accounts.createToken(
        request.principal,
        request.ip,
        body.data,
      );
      return reply.code(201).send({ ...record, token });
    } catch (err) {
      return sendKnownError(reply, err);
    }
  });

  app.delete('/api/tokens/:tokenId', requires('viewer', 'tokens'), async (request, reply) => {
    const params = tokenParam.safeParse(request.params);
    if (!params.success) return badRequest(reply, params.error);
    try {
      await accounts.revokeToken(request.principal, request.ip, params.data.tokenId);
      return reply.code(204).send();
    } catch (err) {
      return sendKnownError(reply, err);
    }
  });
}
