/** Console sessions, found by the SHA-256 of the cookie that names them. */
export interface SessionRecord {
  sessionHash: string;
  username: string;
  /** Sent back by the console on every change (synchronizer token). */
  csrfToken: string;
  createdAt: number;
  expiresAt: number;
  lastSeenAt: number;
  address: string;
}

export interface SessionRepository {
  create(record: SessionRecord): Promise<void>;
  /** The session, if it exists and has not expired at `now`. */
  find(sessionHash: string, now: number): Promise<SessionRecord | undefined>;
  /** Slides the idle expiry forward. */
  touch(sessionHash: string, now: number, expiresAt: number): Promise<void>;
  remove(sessionHash: string): Promise<void>;
  /** Ends every session of an operator (disabled, demoted, password changed); returns how many. */
  removeForOperator(username: string): Promise<number>;
  removeExpired(now: number): Promise<number>;
}
