/**
 * One CA and one server certificate (for 127.0.0.1, ::1 and localhost) per
 * test process, written to a temp dir: managers and Mosquitto get them as
 * "given certificates", so each test does not pay for RSA key generation.
 * The manager's own first-start CA is tested where it matters (provisioning).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  certificateFingerprint,
  createCertificateAuthority,
  issueServerCertificate,
} from '../../manager/security/certificates';

export interface TestTls {
  dir: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  caPem: string;
  caFingerprint: string;
}

let made: TestTls | undefined;

export function testTls(): TestTls {
  if (made && fs.existsSync(made.keyFile)) return made;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-tls-'));
  const ca = createCertificateAuthority('stopsign test CA');
  const server = issueServerCertificate(ca, ['localhost', '127.0.0.1', '::1']);
  const files = {
    caFile: path.join(dir, 'ca.pem'),
    certFile: path.join(dir, 'server.pem'),
    keyFile: path.join(dir, 'server-key.pem'),
  };
  fs.writeFileSync(files.caFile, ca.certPem);
  fs.writeFileSync(files.certFile, server.certPem);
  fs.writeFileSync(files.keyFile, server.keyPem, { mode: 0o600 });
  made = { dir, ...files, caPem: ca.certPem, caFingerprint: certificateFingerprint(ca.certPem) };
  return made;
}
