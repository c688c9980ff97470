/**
 * Every route says who may call it, in its config: `access: 'public'` or the
 * least role and the scope it belongs to. A route registered without a rule
 * stops the server from starting, so nothing is ever open by omission; the
 * route matrix test calls every registered route as every role and as nobody.
 */
import type {} from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { roleAtLeast, type Role, type Scope } from '../../../shared';
import type { OperatorAccounts } from '../../access/operatorAccounts';
import type { Principal } from '../../access/principal';
import { sameSecret } from '../../security/secrets';

export type RouteAccess = 'public' | { role: Role; scope: Scope };

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
  interface FastifyRequest {
    principal: Principal;
  }
}

export const requires = (role: Role, scope: Scope): { config: { access: RouteAccess } } => ({
  config: { access: { role, scope } },
});
export const isPublic = { config: { access: 'public' as const } };

export interface RegisteredRoute {
  method: string;
  url: string;
  access: RouteAccess;
}

/** The cookie is bound to this origin only (__Host-: Secure, Path=/, no Domain). */
export const SESSION_COOKIE = '__Host-stopsign-session';
export const CSRF_HEADER = 'x-csrf-token';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const ANONYMOUS: Principal = { kind: 'anonymous' };

export function registerAccessControl(
  app: FastifyInstance,
  accounts: OperatorAccounts,
  routes: RegisteredRoute[],
): void {
  app.decorateRequest('principal', null as never);
  app.addHook('onRoute', (route) => {
    const access = route.config?.access;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (access === undefined) {
      throw new Error(`route ${methods.join(',')} ${route.url} declares no access rule`);
    }
    for (const method of methods) {
      // Fastify adds HEAD for every GET itself; the matrix walks the GET.
      if (method === 'HEAD' && route.url !== '/' && routes.some((r) => r.url === route.url))
        continue;
      routes.push({ method, url: route.url, access });
    }
  });
  app.addHook('onRequest', async (request, reply) => {
    request.principal = ANONYMOUS;
    const access = request.routeOptions.config.access;
    // No route matched: the 404 handler answers.
    if (access === undefined || access === 'public') return;
    const principal = await identify(request, accounts);
    if (principal === 'bad-token')
      return refuse(reply, 401, 'that API token is not valid (revoked or expired?)');
    if (principal.kind === 'anonymous') return refuse(reply, 401, 'log in or send an API token');
    request.principal = principal;
    if (!roleAtLeast(principal.role, access.role)) {
      return refuse(reply, 403, `this needs the ${access.role} role; you have ${principal.role}`);
    }
    if (
      principal.kind === 'token' &&
      principal.scopes.length > 0 &&
      !principal.scopes.includes(access.scope)
    ) {
      return refuse(
        reply,
        403,
        `this token is limited to ${principal.scopes.join(', ')}; this is ${access.scope}`,
      );
    }
    if (principal.kind === 'session' && !SAFE_METHODS.has(request.method)) {
      const sent = request.headers[CSRF_HEADER];
      if (typeof sent !== 'string' || !sameSecret(sent, principal.csrfToken)) {
        return refuse(reply, 403, `missing or wrong ${CSRF_HEADER} header`);
      }
    }
  });
}

async function identify(
  request: FastifyRequest,
  accounts: OperatorAccounts,
): Promise<Principal | 'bad-token'> {
  const header = request.headers.authorization;
  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const principal = match?.[1] ? await accounts.fromToken(match[1]) : undefined;
    return principal ?? 'bad-token';
  }
  const sessionId = request.cookies[SESSION_COOKIE];
  if (sessionId) return (await accounts.fromSession(sessionId)) ?? ANONYMOUS;
  return ANONYMOUS;
}

function refuse(reply: FastifyReply, code: 401 | 403, error: string): FastifyReply {
  if (code === 401) void reply.header('www-authenticate', 'Bearer realm="stopsign"');
  return reply.code(code).send({ error });
}
