/**
 * Request and response bodies of the manager's access-control API: operators,
 * sessions, tokens, sign provisioning and the audit log. Every request schema
 * is strict, so a field the caller may not set (a role on a password change,
 * say) is refused rather than ignored.
 */
import { z } from 'zod';
import { ROLES, SCOPES } from './access';
import { CLAIM_CODE_LENGTH } from './claim';
import { deviceId, stopId } from './schemas';

export const role = z.enum(ROLES);
export const scope = z.enum(SCOPES);

export const username = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{1,63}$/, 'username must be 2-64 of a-z 0-9 . _ - (lowercase)');
/** Long passphrases welcome; a cap keeps hashing cheap to refuse. */
export const password = z
  .string()
  .min(12, 'password must be at least 12 characters')
  .max(256, 'password must be at most 256 characters');

export const loginRequest = z
  .object({ username: z.string().max(64), password: z.string().max(256) })
  .strict();
export type LoginRequest = z.infer<typeof loginRequest>;

export const setupRequest = z
  .object({ setupToken: z.string().min(1).max(128), username, password })
  .strict();
export type SetupRequest = z.infer<typeof setupRequest>;

export const createOperatorRequest = z.object({ username, password, role }).strict();
export type CreateOperatorRequest = z.infer<typeof createOperatorRequest>;

export const updateOperatorRequest = z
  .object({
    role: role.optional(),
    disabled: z.boolean().optional(),
    password: password.optional(),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, { message: 'nothing to change' });
export type UpdateOperatorRequest = z.infer<typeof updateOperatorRequest>;

export const changePasswordRequest = z
  .object({ currentPassword: z.string().max(256), newPassword: password })
  .strict();

export const createTokenRequest = z
  .object({
    name: z.string().min(1).max(100),
    role,
    /** Empty or absent: every route the role allows. */
    scopes: z.array(scope).max(SCOPES.length).default([]),
    expiresInDays: z.number().int().min(1).max(3650).optional(),
  })
  .strict();
export type CreateTokenRequest = z.input<typeof createTokenRequest>;

export const claimRequest = z
  .object({
    code: z
      .string()
      .min(CLAIM_CODE_LENGTH)
      .max(CLAIM_CODE_LENGTH + 10),
  })
  .strict();

/** What a sign receives for its claim code, once. */
export const claimResponse = z.object({
  deviceId,
  stopId,
  mqtt: z.object({
    url: z.string().regex(/^mqtts:\/\/\S+$/, 'expected mqtts://host:port'),
    username: z.string().min(1).max(128),
    password: z.string().min(32).max(256),
    /** The CA the broker's certificate chains to: the sign pins it. */
    caPem: z.string().includes('BEGIN CERTIFICATE'),
  }),
});
export type ClaimResponse = z.infer<typeof claimResponse>;

export const auditQuery = z
  .object({
    actor: z.string().max(128).optional(),
    action: z.string().max(64).optional(),
    target: z.string().max(128).optional(),
    /** Epoch seconds, inclusive. */
    from: z.coerce.number().int().nonnegative().optional(),
    to: z.coerce.number().int().nonnegative().optional(),
    /** Events older than this id (the next page). */
    before: z.coerce.number().int().positive().optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict();
export type AuditQuery = z.infer<typeof auditQuery>;

export const signIdParam = z.object({ deviceId }).strict();
