/**
 * The manager's own certificate authority for a fleet that has none: one CA,
 * and server certificates it signs for the HTTPS API and the embedded MQTT
 * broker. Keys come from node:crypto; node-forge writes and signs the X.509.
 */
import { generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import forge from 'node-forge';

export interface KeyAndCertificate {
  certPem: string;
  keyPem: string;
}

const DAY_MS = 24 * 3600 * 1000;

function newKeyPair(): {
  keyPem: string;
  publicKey: forge.pki.PublicKey;
  privateKey: forge.pki.rsa.PrivateKey;
} {
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const forgeKey = forge.pki.privateKeyFromPem(privateKey);
  return {
    keyPem: privateKey,
    privateKey: forgeKey,
    publicKey: forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e),
  };
}

function serialNumber(): string {
  // Positive: the top bit clear, as DER integers are signed.
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString('hex');
}

export function createCertificateAuthority(
  commonName: string,
  now = Date.now(),
  validDays = 3650,
): KeyAndCertificate {
  const keys = newKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serialNumber();
  cert.validity.notBefore = new Date(now - 3600_000);
  cert.validity.notAfter = new Date(now + validDays * DAY_MS);
  const subject = [{ name: 'commonName', value: commonName }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.keyPem };
}

/** A server certificate for every name and address in `hostnames`, signed by `ca`. */
export function issueServerCertificate(
  ca: KeyAndCertificate,
  hostnames: string[],
  now = Date.now(),
  validDays = 397,
): KeyAndCertificate {
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const caKey = forge.pki.privateKeyFromPem(ca.keyPem);
  const keys = newKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serialNumber();
  cert.validity.notBefore = new Date(now - 3600_000);
  cert.validity.notAfter = new Date(now + validDays * DAY_MS);
  cert.setSubject([{ name: 'commonName', value: hostnames[0] ?? 'stopsign-manager' }]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: hostnames.map((h) => (isIP(h) ? { type: 7, ip: h } : { type: 2, value: h })),
    },
    {
      name: 'authorityKeyIdentifier',
      keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes(),
    },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.keyPem };
}

/** Lowercase hex SHA-256 of the certificate's DER: what a claim pins. */
export function certificateFingerprint(certPem: string): string {
  return new X509Certificate(certPem).fingerprint256.replace(/:/g, '').toLowerCase();
}

/** Whether `certPem` names every host in `hostnames` and stays valid for `marginDays`. */
export function certificateCovers(
  certPem: string,
  hostnames: string[],
  now = Date.now(),
  marginDays = 30,
): boolean {
  const cert = new X509Certificate(certPem);
  if (new Date(cert.validTo).getTime() < now + marginDays * DAY_MS) return false;
  return hostnames.every((h) =>
    isIP(h) ? cert.checkIP(h) !== undefined : cert.checkHost(h) !== undefined,
  );
}
