/**
 * Operator accounts, console sessions and API tokens: logging in, who a
 * request comes from, and the changes admins make. The first admin is made
 * by the CLI or with the one-time setup token printed at first start; there
 * is never a default password.
 */
import type { Logger } from 'pino';
import {
  roleAtLeast,
  type CreateOperatorRequest,
  type CreateTokenRequest,
  type Role,
  type Scope,
  type UpdateOperatorRequest,
} from '../../shared';
import { decoyHash, hashPassword, verifyPassword } from '../security/passwords';
import type { LoginThrottle } from '../security/loginThrottle';
import {
  newApiToken,
  randomSecret,
  sameSecret,
  sha256Hex,
  TOKEN_PREFIX,
} from '../security/secrets';
import type { ApiTokenRecord, ApiTokenRepository } from '../store/apiTokenRepository';
import type { OperatorRecord, OperatorRepository } from '../store/operatorRepository';
import type { SessionRepository } from '../store/sessionRepository';
import { AuditLog, type AuditActor } from './auditLog';
import type { Principal } from './principal';

export interface OperatorAccountsOptions {
  operators: OperatorRepository;
  sessions: SessionRepository;
  apiTokens: ApiTokenRepository;
  audit: AuditLog;
  throttle: LoginThrottle;
  /** Epoch milliseconds. */
  clock: () => number;
  logger: Logger;
  scryptLog2Cost: number;
  /** A session ends after this long without a request. */
  sessionIdleHours: number;
}

/** What an operator record looks like outside the store: never the hash. */
export interface OperatorView {
  username: string;
  role: Role;
  createdAt: number;
  passwordChangedAt: number;
  disabled: boolean;
}

export type LoginResult =
  | { ok: true; sessionId: string; csrfToken: string; operator: OperatorView; expiresAt: number }
  | { ok: false; reason: 'invalid' }
  | { ok: false; reason: 'throttled'; retryAfterSeconds: number };

export class AccountError extends Error {
  constructor(
    readonly status: 400 | 403 | 404 | 409,
    message: string,
  ) {
    super(message);
  }
}

/** Touches (last seen, sliding expiry) at most this often per session or token. */
const TOUCH_EVERY_SECONDS = 60;

export class OperatorAccounts {
  private decoy = '';
  private setupToken: string | undefined;

  constructor(private readonly options: OperatorAccountsOptions) {}

  /** Prepares the decoy hash; with no operator yet, makes the one-time setup token. */
  async start(): Promise<void> {
    this.decoy = await decoyHash(this.options.scryptLog2Cost);
    if ((await this.options.operators.count()) === 0) this.setupToken = randomSecret(18);
  }

  /** The token that creates the first admin, while there is no operator; printed at start. */
  pendingSetupToken(): string | undefined {
    return this.setupToken;
  }

  private now(): number {
    return Math.floor(this.options.clock() / 1000);
  }

  async setup(
    token: string,
    username: string,
    password: string,
    address: string,
  ): Promise<OperatorView> {
    const expected = this.setupToken;
    if (expected === undefined || (await this.options.operators.count()) > 0) {
      this.setupToken = undefined;
      throw new AccountError(409, 'setup is done: an operator exists already');
    }
    if (!sameSecret(token, expected)) throw new AccountError(403, 'wrong setup token');
    const created = await this.createRecord(username, password, 'admin');
    this.setupToken = undefined;
    await this.options.audit.record(
      { actorKind: 'system', actor: 'setup token', address },
      {
        action: 'operator.create',
        target: { kind: 'operator', id: username },
        after: { role: 'admin' },
      },
    );
    return created;
  }

  async login(username: string, password: string, address: string): Promise<LoginResult> {
    const { throttle, operators, sessions, audit } = this.options;
    const verdict = throttle.check(username, address);
    if (!verdict.allowed)
      return { ok: false, reason: 'throttled', retryAfterSeconds: verdict.retryAfterSeconds };
    const operator = await operators.get(username);
    // The same work whether or not the account exists.
    const matches = await verifyPassword(password, operator?.passwordHash ?? this.decoy);
    if (!operator || !matches || operator.disabledAt !== null) {
      throttle.fail(username, address);
      await audit.record(
        { actorKind: 'anonymous', actor: username.slice(0, 64), address },
        { action: 'login.failure' },
      );
      return { ok: false, reason: 'invalid' };
    }
    throttle.succeed(username);
    const now = this.now();
    const sessionId = randomSecret(32);
    const csrfToken = randomSecret(24);
    const expiresAt = now + this.options.sessionIdleHours * 3600;
    await sessions.create({
      sessionHash: sha256Hex(sessionId),
      username,
      csrfToken,
      createdAt: now,
      expiresAt,
      lastSeenAt: now,
      address,
    });
    await audit.record(
      { actorKind: 'operator', actor: username, address },
      { action: 'login.success' },
    );
    return { ok: true, sessionId, csrfToken, operator: view(operator), expiresAt };
  }

  async logout(principal: Principal, address: string): Promise<void> {
    if (principal.kind !== 'session') return;
    await this.options.sessions.remove(principal.sessionHash);
    await this.options.audit.record(AuditLog.byPrincipal(principal, address), { action: 'logout' });
  }

  /** The operator behind a session cookie, with the role they hold now. */
  async fromSession(sessionId: string): Promise<Principal | undefined> {
    const now = this.now();
    const sessionHash = sha256Hex(sessionId);
    const session = await this.options.sessions.find(sessionHash, now);
    if (!session) return undefined;
    const operator = await this.options.operators.get(session.username);
    if (!operator || operator.disabledAt !== null) return undefined;
    if (now - session.lastSeenAt >= TOUCH_EVERY_SECONDS) {
      await this.options.sessions.touch(
        sessionHash,
        now,
        now + this.options.sessionIdleHours * 3600,
      );
    }
    return {
      kind: 'session',
      username: operator.username,
      role: operator.role,
      sessionHash,
      csrfToken: session.csrfToken,
    };
  }

  /** A token acts with its own role, never more than its owner holds now. */
  async fromToken(token: string): Promise<Principal | undefined> {
    if (!token.startsWith(TOKEN_PREFIX) || token.length > 200) return undefined;
    const now = this.now();
    const record = await this.options.apiTokens.findUsable(sha256Hex(token), now);
    if (!record) return undefined;
    const owner = await this.options.operators.get(record.username);
    if (!owner || owner.disabledAt !== null) return undefined;
    if (record.lastUsedAt === null || now - record.lastUsedAt >= TOUCH_EVERY_SECONDS) {
      await this.options.apiTokens.touch(record.tokenId, now);
    }
    const role = roleAtLeast(owner.role, record.role) ? record.role : owner.role;
    return {
      kind: 'token',
      tokenId: record.tokenId,
      username: record.username,
      role,
      scopes: record.scopes,
    };
  }

  async list(): Promise<OperatorView[]> {
    return (await this.options.operators.list()).map(view);
  }

  async create(who: AuditActor, request: CreateOperatorRequest): Promise<OperatorView> {
    const created = await this.createRecord(request.username, request.password, request.role);
    await this.options.audit.record(who, {
      action: 'operator.create',
      target: { kind: 'operator', id: request.username },
      after: { role: request.role },
    });
    return created;
  }

  /** Used by the HTTP API and the CLI alike. */
  async createRecord(username: string, password: string, role: Role): Promise<OperatorView> {
    const passwordHash = await hashPassword(password, this.options.scryptLog2Cost);
    const createdAt = this.now();
    const created = await this.options.operators.create({
      username,
      passwordHash,
      role,
      createdAt,
    });
    if (!created) throw new AccountError(409, `operator ${username} exists already`);
    return { username, role, createdAt, passwordChangedAt: createdAt, disabled: false };
  }

  async update(
    who: AuditActor,
    username: string,
    changes: UpdateOperatorRequest,
  ): Promise<OperatorView> {
    const { operators, sessions, apiTokens, audit } = this.options;
    const before = await operators.get(username);
    if (!before) throw new AccountError(404, `no operator ${username}`);
    const losesAdmin =
      before.role === 'admin' &&
      before.disabledAt === null &&
      ((changes.role !== undefined && changes.role !== 'admin') || changes.disabled === true);
    if (losesAdmin && (await operators.countActiveAdmins()) <= 1) {
      throw new AccountError(409, 'the last admin cannot be demoted or disabled');
    }
    const now = this.now();
    if (changes.role !== undefined) await operators.setRole(username, changes.role);
    if (changes.disabled !== undefined) {
      await operators.setDisabled(username, changes.disabled ? now : null);
    }
    if (changes.password !== undefined) {
      await operators.setPassword(
        username,
        await hashPassword(changes.password, this.options.scryptLog2Cost),
        now,
      );
    }
    // A narrower role, a disabled account or a reset password ends every open session.
    const narrowed = changes.role !== undefined && !roleAtLeast(changes.role, before.role);
    if (narrowed || changes.disabled === true || changes.password !== undefined) {
      await sessions.removeForOperator(username);
    }
    if (changes.disabled === true) await apiTokens.revokeForOperator(username, now);
    const after = await operators.get(username);
    if (!after) throw new AccountError(404, `no operator ${username}`);
    await audit.record(who, {
      action: 'operator.update',
      target: { kind: 'operator', id: username },
      before: { role: before.role, disabled: before.disabledAt !== null },
      after: {
        role: after.role,
        disabled: after.disabledAt !== null,
        ...(changes.password !== undefined ? { passwordReset: true } : {}),
      },
    });
    return view(after);
  }

  async changeOwnPassword(
    principal: Principal,
    address: string,
    currentPassword: string,
    newPassword: string,
  ): Promise<void> {
    if (principal.kind === 'anonymous') throw new AccountError(403, 'log in first');
    const operator = await this.options.operators.get(principal.username);
    if (!operator || !(await verifyPassword(currentPassword, operator.passwordHash))) {
      throw new AccountError(403, 'the current password is wrong');
    }
    const now = this.now();
    await this.options.operators.setPassword(
      operator.username,
      await hashPassword(newPassword, this.options.scryptLog2Cost),
      now,
    );
    await this.options.sessions.removeForOperator(operator.username);
    await this.options.audit.record(AuditLog.byPrincipal(principal, address), {
      action: 'operator.password',
      target: { kind: 'operator', id: operator.username },
    });
  }

  /** The token's secret is in the answer once and never again. */
  async createToken(
    principal: Principal,
    address: string,
    request: CreateTokenRequest & { scopes: Scope[] },
    owner = principal.kind === 'anonymous' ? '' : principal.username,
  ): Promise<{ token: string; record: ApiTokenRecord }> {
    if (principal.kind === 'anonymous') throw new AccountError(403, 'log in first');
    if (!roleAtLeast(principal.role, request.role)) {
      throw new AccountError(403, `a ${principal.role} cannot make a ${request.role} token`);
    }
    // A scoped token cannot mint a broader one.
    if (principal.kind === 'token' && principal.scopes.length > 0) {
      throw new AccountError(403, 'a scoped token cannot create tokens');
    }
    return this.issueToken(owner, request, AuditLog.byPrincipal(principal, address));
  }

  /** Makes the token; callers have checked the owner may hold it (the HTTP API, the CLI). */
  async issueToken(
    owner: string,
    request: CreateTokenRequest & { scopes: Scope[] },
    who: AuditActor,
  ): Promise<{ token: string; record: ApiTokenRecord }> {
    const { token, tokenId } = newApiToken();
    const now = this.now();
    const record: ApiTokenRecord = {
      tokenId,
      name: request.name,
      username: owner,
      role: request.role,
      scopes: request.scopes,
      createdAt: now,
      expiresAt: request.expiresInDays ? now + request.expiresInDays * 86_400 : null,
      revokedAt: null,
      lastUsedAt: null,
    };
    await this.options.apiTokens.create(record, sha256Hex(token));
    await this.options.audit.record(who, {
      action: 'token.create',
      target: { kind: 'token', id: tokenId },
      after: {
        name: record.name,
        owner,
        role: record.role,
        scopes: record.scopes,
        expiresAt: record.expiresAt,
      },
    });
    return { token, record };
  }

  /** Admins see every token; anyone else their own. */
  async listTokens(principal: Principal): Promise<ApiTokenRecord[]> {
    if (principal.kind === 'anonymous') return [];
    return this.options.apiTokens.list(principal.role === 'admin' ? undefined : principal.username);
  }

  async revokeToken(principal: Principal, address: string, tokenId: string): Promise<void> {
    if (principal.kind === 'anonymous') throw new AccountError(403, 'log in first');
    const record = await this.options.apiTokens.get(tokenId);
    // Someone else's token looks like no token at all (no probing of ids).
    if (!record || (principal.role !== 'admin' && record.username !== principal.username)) {
      throw new AccountError(404, `no token ${tokenId}`);
    }
    if (!(await this.options.apiTokens.revoke(tokenId, this.now()))) {
      throw new AccountError(409, `token ${tokenId} is already revoked`);
    }
    await this.options.audit.record(AuditLog.byPrincipal(principal, address), {
      action: 'token.revoke',
      target: { kind: 'token', id: tokenId },
      before: { name: record.name, owner: record.username, role: record.role },
    });
  }
}

function view(record: OperatorRecord): OperatorView {
  return {
    username: record.username,
    role: record.role,
    createdAt: record.createdAt,
    passwordChangedAt: record.passwordChangedAt,
    disabled: record.disabledAt !== null,
  };
}
