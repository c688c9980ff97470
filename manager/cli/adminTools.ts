/**
 * What the operator CLI does, on the shared store directly: it is how the
 * first admin comes to exist before anyone can log in, and it runs on the
 * manager's host with the manager's configuration (same store, same hashing).
 */
import pino from 'pino';
import { roleAtLeast, type Role, type Scope } from '../../shared';
import { AuditLog } from '../access/auditLog';
import { OperatorAccounts, type OperatorView } from '../access/operatorAccounts';
import type { ManagerConfig } from '../config';
import { LoginThrottle } from '../security/loginThrottle';
import { randomSecret } from '../security/secrets';
import { openSharedStore, type SharedStore } from '../store/sharedStore';
import { storeLocationFor } from '../store/storeEngine';

export interface AdminTools {
  accounts: OperatorAccounts;
  audit: AuditLog;
  store: SharedStore;
  close(): Promise<void>;
}

const CLI_ACTOR = { actorKind: 'system' as const, actor: 'operator CLI', address: null };

export async function openAdminTools(config: ManagerConfig): Promise<AdminTools> {
  const logger = pino({ level: 'warn' });
  const store = await openSharedStore(storeLocationFor(config), { logger });
  const audit = new AuditLog(store.audit, Date.now, logger);
  const accounts = new OperatorAccounts({
    operators: store.operators,
    sessions: store.sessions,
    apiTokens: store.apiTokens,
    audit,
    throttle: new LoginThrottle({ maxFailures: config.loginMaxFailures, windowSeconds: 900 }),
    clock: Date.now,
    logger,
    scryptLog2Cost: config.scryptCost,
    sessionIdleHours: config.sessionIdleHours,
  });
  return { accounts, audit, store, close: () => store.close() };
}

/** Creates an operator; without a password one is made up and returned (shown once). */
export async function createOperator(
  tools: AdminTools,
  request: { username: string; role: Role; password?: string | undefined },
): Promise<{ operator: OperatorView; password: string }> {
  const password = request.password ?? randomSecret(15);
  const operator = await tools.accounts.createRecord(request.username, password, request.role);
  await tools.audit.record(CLI_ACTOR, {
    action: 'operator.create',
    target: { kind: 'operator', id: request.username },
    after: { role: request.role },
  });
  return { operator, password };
}

export async function createToken(
  tools: AdminTools,
  request: {
    username: string;
    name: string;
    role?: Role;
    scopes?: Scope[];
    expiresInDays?: number;
  },
): Promise<{ token: string; tokenId: string }> {
  const owner = await tools.store.operators.get(request.username);
  if (!owner || owner.disabledAt !== null)
    throw new Error(`no active operator ${request.username}`);
  const role = request.role ?? owner.role;
  if (!roleAtLeast(owner.role, role))
    throw new Error(`${request.username} is ${owner.role}, not ${role}`);
  const { token, record } = await tools.accounts.issueToken(
    owner.username,
    {
      name: request.name,
      role,
      scopes: request.scopes ?? [],
      ...(request.expiresInDays ? { expiresInDays: request.expiresInDays } : {}),
    },
    CLI_ACTOR,
  );
  return { token, tokenId: record.tokenId };
}
