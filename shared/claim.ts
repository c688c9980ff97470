/**
 * The claim a new sign is installed with: one text, printed as a QR code for
 * the installer, that names the manager, the one-time code and the SHA-256
 * fingerprint of the certificate authority the sign must find there.
 *   stopsign-claim:?manager=https%3A%2F%2Fmanager.example%3A8443&code=7KQ2-...&ca=9f86d0...
 */
const SCHEME = 'stopsign-claim:';
/** Crockford base32: no I, L, O or U to misread on a label. */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export const CLAIM_CODE_LENGTH = 20;

export interface Claim {
  managerUrl: string;
  code: string;
  /** Lowercase hex SHA-256 of the CA certificate (DER). */
  caFingerprint: string;
}

/** Twenty base32 characters (100 bits) from the given random bytes, in groups of four. */
export function formatClaimCode(random: Uint8Array): string {
  if (random.length < CLAIM_CODE_LENGTH) throw new Error('need 20 random bytes');
  let code = '';
  for (let i = 0; i < CLAIM_CODE_LENGTH; i++) {
    code += ALPHABET[(random[i] ?? 0) & 31];
    if (i % 4 === 3 && i < CLAIM_CODE_LENGTH - 1) code += '-';
  }
  return code;
}

/** The code as it is hashed: uppercase, no separators, easily confused letters mapped. */
export function normalizeClaimCode(input: string): string {
  return input.toUpperCase().replace(/[\s-]/g, '').replace(/[IL]/g, '1').replace(/O/g, '0');
}

export function isClaimCode(input: string): boolean {
  const code = normalizeClaimCode(input);
  return code.length === CLAIM_CODE_LENGTH && [...code].every((c) => ALPHABET.includes(c));
}

export function normalizeFingerprint(input: string): string {
  return input
    .toLowerCase()
    .replace(/^sha256[:-]/, '')
    .replace(/:/g, '');
}

export function formatClaim(claim: Claim): string {
  const query = new URLSearchParams({
    manager: claim.managerUrl,
    code: claim.code,
    ca: normalizeFingerprint(claim.caFingerprint),
  });
  return `${SCHEME}?${query.toString()}`;
}

/** Throws with the reason when the text is not a claim. */
export function parseClaim(text: string): Claim {
  const trimmed = text.trim();
  if (!trimmed.startsWith(`${SCHEME}?`)) throw new Error(`a claim starts with ${SCHEME}?`);
  const query = new URLSearchParams(trimmed.slice(SCHEME.length + 1));
  const managerUrl = query.get('manager') ?? '';
  const code = query.get('code') ?? '';
  const caFingerprint = normalizeFingerprint(query.get('ca') ?? '');
  let url: URL;
  try {
    url = new URL(managerUrl);
  } catch {
    throw new Error('the claim names no manager URL');
  }
  if (url.protocol !== 'https:') throw new Error('a claim is made over HTTPS only');
  if (!isClaimCode(code)) throw new Error('the claim code is not 20 base32 characters');
  if (!/^[0-9a-f]{64}$/.test(caFingerprint)) {
    throw new Error('the CA fingerprint is not a SHA-256 in hex');
  }
  return { managerUrl: url.origin, code: normalizeClaimCode(code), caFingerprint };
}
