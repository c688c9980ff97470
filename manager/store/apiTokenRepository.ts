/** API tokens for scripts: owned by an operator, at most their role, optionally limited to scopes. */
import type { Role, Scope } from '../../shared';

export interface ApiTokenRecord {
  tokenId: string;
  name: string;
  /** The operator who created it and answers for it. */
  username: string;
  role: Role;
  scopes: Scope[];
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
  lastUsedAt: number | null;
}

export interface ApiTokenRepository {
  create(
    record: Omit<ApiTokenRecord, 'revokedAt' | 'lastUsedAt'>,
    tokenHash: string,
  ): Promise<void>;
  /** A token that is neither revoked nor expired at `now`. */
  findUsable(tokenHash: string, now: number): Promise<ApiTokenRecord | undefined>;
  get(tokenId: string): Promise<ApiTokenRecord | undefined>;
  /** Newest first; one operator's when `username` is given. */
  list(username?: string): Promise<ApiTokenRecord[]>;
  revoke(tokenId: string, now: number): Promise<boolean>;
  revokeForOperator(username: string, now: number): Promise<number>;
  touch(tokenId: string, now: number): Promise<void>;
}
