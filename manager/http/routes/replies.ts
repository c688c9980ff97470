/** Small helpers every route file shares. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AccountError } from '../../access/operatorAccounts';
import { AuditLog, type AuditActor } from '../../access/auditLog';
import { ProvisioningError } from '../../access/signProvisioning';

export function badRequest(reply: FastifyReply, error: z.ZodError): FastifyReply {
  return reply.code(400).send({ error: 'invalid request', detail: z.prettifyError(error) });
}

/** Who made the request, for the audit log. */
export function actor(request: FastifyRequest): AuditActor {
  return AuditLog.byPrincipal(request.principal, request.ip);
}

/** Expected refusals become their status and reason; anything else goes to the error handler. */
export function sendKnownError(reply: FastifyReply, err: unknown): FastifyReply {
  if (err instanceof AccountError || err instanceof ProvisioningError) {
    return reply.code(err.status).send({ error: err.message });
  }
  throw err;
}
