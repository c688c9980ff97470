/**
 * Operator passwords, hashed with scrypt from node:crypto (memory-hard, no
 * native add-on to build on a small server). The parameters travel with each
 * hash, so they can be raised later without invalidating old ones.
 *   scrypt$N$r$p$<salt base64>$<hash base64>
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** OWASP's scrypt floor is N=2^17, r=8, p=1: 128 MiB and a few hundred ms per hash. */
export const DEFAULT_SCRYPT_LOG2_COST = 17;
const KEY_LENGTH = 32;

function derive(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(
      password.normalize('NFKC'),
      salt,
      KEY_LENGTH,
      { ...options, maxmem: 256 * 1024 * 1024 },
      (err, key) => (err ? reject(err) : resolve(key)),
    );
  });
}

export async function hashPassword(
  password: string,
  log2Cost = DEFAULT_SCRYPT_LOG2_COST,
): Promise<string> {
  const cost = { N: 2 ** log2Cost, r: 8, p: 1 };
  const salt = randomBytes(16);
  const key = await derive(password, salt, cost);
  return ['scrypt', cost.N, cost.r, cost.p, salt.toString('base64'), key.toString('base64')].join(
    '$',
  );
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const key = await derive(password, Buffer.from(salt, 'base64'), {
    N: Number(n),
    r: Number(r),
    p: Number(p),
  });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/**
 * A hash of nothing anyone knows, checked when the username does not exist,
 * so a wrong username takes as long as a wrong password and does not reveal
 * which accounts exist.
 */
export function decoyHash(log2Cost = DEFAULT_SCRYPT_LOG2_COST): Promise<string> {
  return hashPassword(randomBytes(16).toString('hex'), log2Cost);
}
