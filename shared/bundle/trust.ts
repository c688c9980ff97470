/**
 * Which keys a sign trusts, and how that set changes. Statements are numbered:
 * a sign applies them in order, each checked against the keys trusted at that
 * point, so a sign many releases behind catches up through the whole chain.
 * An "add" must be signed by a trusted key and by the new key (TUF asks the
 * same of a new root); a "revoke" by any trusted key, the revoked one included.
 */
import { z } from 'zod';
import {
  keyStatementBody,
  type KeyStatement,
  type KeyStatementBody,
  type PublicKeyEntry,
  type SignatureEntry,
  type TrustState,
  type UpdateFailureReason,
} from '../update';
import { keyIdOf, signBytes, verifyBytes, type SigningKey } from './signing';

export type TrustFailure = { reason: UpdateFailureReason; detail: string };

export function initialTrust(keys: PublicKeyEntry[]): TrustState {
  return { seq: 0, keys, revoked: [] };
}

export function makeStatement(body: KeyStatementBody, signers: SigningKey[]): KeyStatement {
  const bytes = Buffer.from(JSON.stringify(body));
  return {
    body: bytes.toString('base64'),
    signatures: signers.map((key) => signBytes(bytes, key)),
  };
}

function signedByOneOf(
  bytes: Buffer,
  signatures: SignatureEntry[],
  keys: PublicKeyEntry[],
): PublicKeyEntry | undefined {
  for (const sig of signatures) {
    const key = keys.find((k) => k.keyId === sig.keyId);
    if (key && verifyBytes(bytes, sig, key)) return key;
  }
  return undefined;
}

function applyOne(
  state: TrustState,
  statement: KeyStatement,
): { state: TrustState } | TrustFailure {
  const bytes = Buffer.from(statement.body, 'base64');
  let body: KeyStatementBody;
  try {
    const parsed = keyStatementBody.safeParse(JSON.parse(bytes.toString('utf8')));
    if (!parsed.success) {
      return { reason: 'bad-key-statement', detail: z.prettifyError(parsed.error) };
    }
    body = parsed.data;
  } catch {
    return { reason: 'bad-key-statement', detail: 'statement body is not JSON' };
  }
  if (body.seq !== state.seq + 1) {
    return {
      reason: 'bad-key-statement',
      detail: `statement ${body.seq} does not follow ${state.seq}`,
    };
  }
  const signer = signedByOneOf(bytes, statement.signatures, state.keys);
  if (!signer) {
    return {
      reason: 'bad-key-statement',
      detail: `statement ${body.seq} is not signed by a trusted key`,
    };
  }
  if (body.action === 'add') {
    const { key } = body;
    if (keyIdOf(Buffer.from(key.publicKey, 'base64')) !== key.keyId) {
      return { reason: 'bad-key-statement', detail: `statement ${body.seq}: key id mismatch` };
    }
    if (!signedByOneOf(bytes, statement.signatures, [key])) {
      return {
        reason: 'bad-key-statement',
        detail: `statement ${body.seq} is not signed by the key it adds`,
      };
    }
    if (state.revoked.some((r) => r.keyId === key.keyId)) {
      return {
        reason: 'bad-key-statement',
        detail: `statement ${body.seq} re-adds revoked key ${key.keyId.slice(0, 12)}`,
      };
    }
    const keys = state.keys.filter((k) => k.keyId !== key.keyId).concat(key);
    return { state: { ...state, seq: body.seq, keys } };
  }
  if (!state.keys.some((k) => k.keyId === body.keyId)) {
    return {
      reason: 'bad-key-statement',
      detail: `statement ${body.seq} revokes a key that is not trusted`,
    };
  }
  if (state.keys.length === 1) {
    return {
      reason: 'bad-key-statement',
      detail: `statement ${body.seq} would revoke the last trusted key`,
    };
  }
  return {
    state: {
      seq: body.seq,
      keys: state.keys.filter((k) => k.keyId !== body.keyId),
      revoked: [...state.revoked, { keyId: body.keyId, seq: body.seq, reason: body.reason }],
    },
  };
}

/**
 * Applies the statements this state has not seen yet. Stops at the first bad
 * one: what came before it stays applied (each was valid on its own).
 */
export function applyStatements(
  state: TrustState,
  chain: KeyStatement[],
): { state: TrustState; applied: number; failure?: TrustFailure } {
  let current = state;
  let applied = 0;
  const pending = chain
    .map((s) => ({ s, seq: statementSeq(s) }))
    .filter((x) => x.seq === undefined || x.seq > state.seq)
    .sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
  for (const { s } of pending) {
    const result = applyOne(current, s);
    if ('reason' in result) return { state: current, applied, failure: result };
    current = result.state;
    applied += 1;
  }
  return { state: current, applied };
}

function statementSeq(statement: KeyStatement): number | undefined {
  try {
    const parsed = keyStatementBody.safeParse(
      JSON.parse(Buffer.from(statement.body, 'base64').toString('utf8')),
    );
    return parsed.success ? parsed.data.seq : undefined;
  } catch {
    return undefined;
  }
}

/** Checks a manifest's signature against the trusted keys; null when it holds. */
export function checkSignature(
  state: TrustState,
  manifestBytes: Uint8Array,
  signature: SignatureEntry,
): TrustFailure | null {
  const short = signature.keyId.slice(0, 12);
  const revoked = state.revoked.find((r) => r.keyId === signature.keyId);
  if (revoked) {
    return {
      reason: 'revoked-key',
      detail: `signed by key ${short}, revoked by statement ${revoked.seq} (${revoked.reason})`,
    };
  }
  const key = state.keys.find((k) => k.keyId === signature.keyId);
  if (!key)
    return { reason: 'unknown-key', detail: `signed by key ${short}, which is not trusted` };
  if (!verifyBytes(manifestBytes, signature, key)) {
    return { reason: 'bad-signature', detail: `the signature by key ${short} does not verify` };
  }
  return null;
}
