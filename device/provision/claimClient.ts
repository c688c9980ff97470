/**
 * Trades a claim code for the sign's credentials, over TLS only. The sign
 * knows the manager's CA by its fingerprint alone (from the claim): it first
 * fetches the CA, checks its SHA-256 against the claim, and from then on
 * trusts nothing else, so a man in the middle gets neither the code nor the
 * credentials.
 */
import { createHash, X509Certificate } from 'node:crypto';
import https from 'node:https';
import { z } from 'zod';
import { claimResponse, normalizeFingerprint, type Claim, type ClaimResponse } from '../../shared';

export class ClaimError extends Error {
  constructor(
    message: string,
    /** True when trying again cannot help (code used, unknown, wrong CA). */
    readonly fatal: boolean,
  ) {
    super(message);
  }
}

interface HttpAnswer {
  status: number;
  body: string;
}

function request(
  url: URL,
  options: { method: 'GET' | 'POST'; ca?: string; body?: string; timeoutMs: number },
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: options.method,
        // Without a CA yet the answer is checked by fingerprint below, not by the chain.
        ...(options.ca ? { ca: options.ca } : { rejectUnauthorized: false }),
        headers: options.body
          ? {
              'content-type': 'application/json',
              'content-length': Buffer.byteLength(options.body),
            }
          : {},
        timeout: options.timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > 64 * 1024) req.destroy(new Error('answer too large'));
          else chunks.push(chunk);
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.on('timeout', () =>
      req.destroy(new Error(`no answer from ${url.origin} in ${options.timeoutMs} ms`)),
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

export function pemFingerprint(pem: string): string {
  const der = new X509Certificate(pem).raw;
  return createHash('sha256').update(der).digest('hex');
}

/** Fetches the manager's CA and returns it only if it is the one the claim names. */
export async function fetchPinnedCa(claim: Claim, timeoutMs = 10_000): Promise<string> {
  const answer = await request(new URL('/api/ca.pem', claim.managerUrl), {
    method: 'GET',
    timeoutMs,
  });
  if (answer.status !== 200)
    throw new ClaimError(`the manager answered ${answer.status} for its CA`, false);
  let fingerprint: string;
  try {
    fingerprint = pemFingerprint(answer.body);
  } catch {
    throw new ClaimError('the manager did not send a certificate as its CA', true);
  }
  if (fingerprint !== normalizeFingerprint(claim.caFingerprint)) {
    throw new ClaimError(
      `the CA at ${claim.managerUrl} is not the one in the claim (SHA-256 ${fingerprint}): refusing to send the code`,
      true,
    );
  }
  return answer.body;
}

export async function claimCredentials(claim: Claim, timeoutMs = 10_000): Promise<ClaimResponse> {
  const ca = await fetchPinnedCa(claim, timeoutMs);
  let answer: HttpAnswer;
  try {
    answer = await request(new URL('/api/claim', claim.managerUrl), {
      method: 'POST',
      ca,
      body: JSON.stringify({ code: claim.code }),
      timeoutMs,
    });
  } catch (err) {
    const message = (err as Error).message;
    // A certificate that does not chain to the pinned CA, or names another host, will not change by retrying.
    const fatal = /certificate|altnames|self.signed/i.test(message);
    throw new ClaimError(`claim request failed: ${message}`, fatal);
  }
  if (answer.status !== 200) {
    let reason = answer.body.slice(0, 200);
    try {
      reason = z.object({ error: z.string() }).parse(JSON.parse(answer.body)).error;
    } catch {
      // not JSON: keep the text
    }
    throw new ClaimError(
      `the manager refused the claim (${answer.status}): ${reason}`,
      answer.status < 500 && answer.status !== 429,
    );
  }
  const parsed = claimResponse.safeParse(JSON.parse(answer.body));
  if (!parsed.success)
    throw new ClaimError(`the claim answer is malformed: ${z.prettifyError(parsed.error)}`, true);
  return parsed.data;
}
