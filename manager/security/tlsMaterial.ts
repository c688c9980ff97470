/**
 * The certificates the manager serves HTTPS and MQTT over TLS with. Given
 * files (production: a CA the city runs) are used as they are; otherwise the
 * manager makes its own CA on first start, keeps it in the data dir, and
 * issues itself a server certificate for every name it is reached by,
 * reissuing it when a name is added or it nears expiry.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import {
  certificateCovers,
  certificateFingerprint,
  createCertificateAuthority,
  issueServerCertificate,
  type KeyAndCertificate,
} from './certificates';

export interface TlsMaterial {
  /** The CA signs trust: handed to them when they claim, pinned by its fingerprint. */
  caPem: string;
  caFingerprint: string;
  certPem: string;
  keyPem: string;
}

export interface GivenTlsFiles {
  certFile?: string | undefined;
  keyFile?: string | undefined;
  caFile?: string | undefined;
}

/** Writes a file whole or not at all, readable by this user only when it holds a key. */
export function writeFileAtomic(file: string, text: string, mode: number): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(temp, 'w', mode);
  try {
    fs.writeFileSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temp, file);
}

export function defaultHostnames(extra: string[], listenHosts: string[]): string[] {
  const names = new Set(['localhost', '127.0.0.1', '::1', os.hostname().toLowerCase()]);
  for (const h of [...listenHosts, ...extra]) {
    if (h && h !== '0.0.0.0' && h !== '::') names.add(h.toLowerCase());
  }
  return [...names];
}

export function loadTlsMaterial(
  dir: string,
  given: GivenTlsFiles,
  hostnames: string[],
  logger: Logger,
  now = Date.now(),
): TlsMaterial {
  if (given.certFile && given.keyFile) {
    const certPem = fs.readFileSync(given.certFile, 'utf8');
    const keyPem = fs.readFileSync(given.keyFile, 'utf8');
    // Without a CA file the certificate itself is what signs pin (self-signed or a chain's root).
    const caPem = given.caFile ? fs.readFileSync(given.caFile, 'utf8') : certPem;
    return { caPem, caFingerprint: certificateFingerprint(caPem), certPem, keyPem };
  }
  const caFile = path.join(dir, 'ca.pem');
  const caKeyFile = path.join(dir, 'ca-key.pem');
  const certFile = path.join(dir, 'server.pem');
  const keyFile = path.join(dir, 'server-key.pem');
  let ca: KeyAndCertificate;
  if (fs.existsSync(caFile) && fs.existsSync(caKeyFile)) {
    ca = { certPem: fs.readFileSync(caFile, 'utf8'), keyPem: fs.readFileSync(caKeyFile, 'utf8') };
  } else {
    ca = createCertificateAuthority(`stopsign manager CA ${os.hostname()}`, now);
    writeFileAtomic(caKeyFile, ca.keyPem, 0o600);
    writeFileAtomic(caFile, ca.certPem, 0o644);
    logger.info({ caFile, fingerprint: certificateFingerprint(ca.certPem) }, 'created a CA');
  }
  let server: KeyAndCertificate | undefined;
  if (fs.existsSync(certFile) && fs.existsSync(keyFile)) {
    const certPem = fs.readFileSync(certFile, 'utf8');
    if (certificateCovers(certPem, hostnames, now)) {
      server = { certPem, keyPem: fs.readFileSync(keyFile, 'utf8') };
    }
  }
  if (!server) {
    server = issueServerCertificate(ca, hostnames, now);
    writeFileAtomic(keyFile, server.keyPem, 0o600);
    writeFileAtomic(certFile, server.certPem, 0o644);
    logger.info({ hostnames }, 'issued the server certificate');
  }
  return {
    caPem: ca.certPem,
    caFingerprint: certificateFingerprint(ca.certPem),
    certPem: server.certPem,
    keyPem: server.keyPem,
  };
}
