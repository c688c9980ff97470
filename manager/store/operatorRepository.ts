/** Operator accounts: who may log in to the console, with which role. */
import type { Role } from '../../shared';

export interface OperatorRecord {
  username: string;
  passwordHash: string;
  role: Role;
  createdAt: number;
  passwordChangedAt: number;
  /** Epoch seconds it was disabled; null while it may log in. */
  disabledAt: number | null;
}

export interface OperatorRepository {
  /** False when the username is taken. */
  create(record: Omit<OperatorRecord, 'disabledAt' | 'passwordChangedAt'>): Promise<boolean>;
  get(username: string): Promise<OperatorRecord | undefined>;
  /** Every operator, by username. */
  list(): Promise<OperatorRecord[]>;
  count(): Promise<number>;
  /** Active admins: the last one may not be demoted or disabled. */
  countActiveAdmins(): Promise<number>;
  setRole(username: string, role: Role): Promise<boolean>;
  setPassword(username: string, passwordHash: string, now: number): Promise<boolean>;
  setDisabled(username: string, disabledAt: number | null): Promise<boolean>;
}
