/**
 * Ed25519 keys and signatures with Node's own crypto. Keys travel as the raw
 * 32 public bytes in base64; a key's id is the SHA-256 of those bytes.
 */
import crypto, { type KeyObject } from 'node:crypto';
import type { PublicKeyEntry, SignatureEntry } from '../update';

/** DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410); the raw key follows it. */
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export function keyIdOf(rawPublicKey: Buffer): string {
  return crypto.createHash('sha256').update(rawPublicKey).digest('hex');
}

export function publicKeyFromEntry(entry: PublicKeyEntry): KeyObject {
  const raw = Buffer.from(entry.publicKey, 'base64');
  return crypto.createPublicKey({
    key: Buffer.concat([SPKI_PREFIX, raw]),
    format: 'der',
    type: 'spki',
  });
}

export function publicEntryOf(key: KeyObject, name?: string): PublicKeyEntry {
  const publicKey = key.type === 'private' ? crypto.createPublicKey(key) : key;
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length);
  return {
    keyId: keyIdOf(raw),
    publicKey: raw.toString('base64'),
    ...(name === undefined ? {} : { name }),
  };
}

export interface SigningKey {
  privateKey: KeyObject;
  entry: PublicKeyEntry;
}

export function generateSigningKey(name?: string): SigningKey {
  const { privateKey } = crypto.generateKeyPairSync('ed25519');
  return { privateKey, entry: publicEntryOf(privateKey, name) };
}

/** Reads a PKCS#8 PEM private key, as written by exportPrivateKey. */
export function loadSigningKey(pem: string, name?: string): SigningKey {
  const privateKey = crypto.createPrivateKey(pem);
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new Error(`expected an Ed25519 private key, got ${privateKey.asymmetricKeyType}`);
  }
  return { privateKey, entry: publicEntryOf(privateKey, name) };
}

export function exportPrivateKey(key: SigningKey): string {
  return key.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}

export function signBytes(bytes: Uint8Array, key: SigningKey): SignatureEntry {
  return {
    keyId: key.entry.keyId,
    signature: crypto.sign(null, bytes, key.privateKey).toString('base64'),
  };
}

export function verifyBytes(
  bytes: Uint8Array,
  signature: SignatureEntry,
  entry: PublicKeyEntry,
): boolean {
  try {
    return crypto.verify(
      null,
      bytes,
      publicKeyFromEntry(entry),
      Buffer.from(signature.signature, 'base64'),
    );
  } catch {
    return false;
  }
}
