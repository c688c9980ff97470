/** Who is asking: an operator in a console session, a script with an API token, or nobody. */
import type { Role, Scope } from '../../shared';

export type Principal =
  | {
      kind: 'session';
      username: string;
      role: Role;
      sessionHash: string;
      csrfToken: string;
    }
  | {
      kind: 'token';
      tokenId: string;
      /** The operator the token belongs to. */
      username: string;
      role: Role;
      /** Empty: every route the role allows. */
      scopes: Scope[];
    }
  | { kind: 'anonymous' };

/** How the principal appears in the audit log. */
export function actorOf(principal: Principal): {
  actorKind: 'operator' | 'token' | 'anonymous';
  actor: string;
} {
  if (principal.kind === 'session') return { actorKind: 'operator', actor: principal.username };
  if (principal.kind === 'token') {
    return { actorKind: 'token', actor: `${principal.username} (token ${principal.tokenId})` };
  }
  return { actorKind: 'anonymous', actor: 'anonymous' };
}
