/** Logging in and out, who am I, one's own password, and the first admin by setup token. */
import type { FastifyInstance } from 'fastify';
import { changePasswordRequest, loginRequest, setupRequest } from '../../../shared';
import type { ManagerServices } from '../../services';
import { isPublic, requires, SESSION_COOKIE } from '../access/routeAccess';
import { badRequest, sendKnownError } from './replies';

export function registerSessionRoutes(app: FastifyInstance, services: ManagerServices): void {
  const { accounts } = services;

  app.post('/api/session', isPublic, async (request, reply) => {
    const body = loginRequest.safeParse(request.body);
    if (!body.success) return badRequest(reply, body.error);
    const result = await accounts.login(body.data.username, body.data.password, request.ip);
    if (!result.ok && result.reason === 'throttled') {
      return reply
        .code(429)
        .header('retry-after', String(result.retryAfterSeconds))
        .send({ error: `too many failed logins; try again in ${result.retryAfterSeconds} s` });
    }
    if (!result.ok) return reply.code(401).send({ error: 'wrong username or password' });
    void reply.setCookie(SESSION_COOKIE, result.sessionId, {
      httpOnly: true,
      secure: true,
      sameSite: 'strict',
      path: '/',
    });
    return { operator: result.operator, csrfToken: result.csrfToken, expiresAt: result.expiresAt };
  });

  app.get('/api/session', requires('viewer', 'account'), async (request) => {
    const principal = request.principal;
    if (principal.kind === 'anonymous') return null;
    return {
      username: principal.username,
      role: principal.role,
      via: principal.kind,
      ...(principal.kind === 'session' ? { csrfToken: principal.csrfToken } : {}),
      ...(principal.kind === 'token' ? { scopes: principal.scopes } : {}),
    };
  });

  app.delete('/api/session', requires('viewer', 'account'), async (request, reply) => {
    await accounts.logout(request.principal, request.ip);
    void reply.clearCookie(SESSION_COOKIE, { path: '/', secure: true, sameSite: 'strict' });
    return reply.code(204).send();
  });

  app.post('/api/session/password', requires('viewer', 'account'), async (request, reply) => {
    const body = changePasswordRequest.safeParse(request.body);
    if (!body.success) return badRequest(reply, body.error);
    try {
      await accounts.changeOwnPassword(
        request.principal,
        request.ip,
        body.data.currentPassword,
        body.data.newPassword,
      );
      return reply.code(204).send();
    } catch (err) {
      return sendKnownError(reply, err);
    }
  });

  app.post('/api/setup', isPublic, async (request, reply) => {
    const body = setupRequest.safeParse(request.body);
    if (!body.success) return badRequest(reply, body.error);
    // The setup token is a password of sorts: guessing it is throttled like one.
    const verdict = services.setupThrottle.check('setup', request.ip);
    if (!verdict.allowed) {
      return reply
        .code(429)
        .header('retry-after', String(verdict.retryAfterSeconds))
        .send({ error: 'too many attempts' });
    }
    try {
      const operator = await accounts.setup(
        body.data.setupToken,
        body.data.username,
        body.data.password,
        request.ip,
      );
      return reply.code(201).send(operator);
    } catch (err) {
      services.setupThrottle.fail('setup', request.ip);
      return sendKnownError(reply, err);
    }
  });
}
