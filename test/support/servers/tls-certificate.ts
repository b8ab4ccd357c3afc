import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openssl, runProgram } from './programs.ts';
import { createTemporaryFolder } from './temporary-folder.ts';

/** A self-signed certificate for 127.0.0.1 and its private key. */
export interface SelfSignedCertificate {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
  /** SHA-256 fingerprint as Node reports it (`AB:CD:…`, `PeerCertificate.fingerprint256`), for pinning. */
  readonly fingerprint256: string;
}

/**
 * Creates a fresh P-256 certificate for the IP address 127.0.0.1, valid for two days (node:crypto
 * makes keys but not certificates, so the openssl program signs it).
 */
export async function createSelfSignedCertificate(): Promise<SelfSignedCertificate> {
  const folder = await createTemporaryFolder('certificate');
  try {
    const certificatePath = join(folder.path, 'certificate.pem');
    const privateKeyPath = join(folder.path, 'private-key.pem');
    await runProgram(openssl, [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
      '-keyout', privateKeyPath, '-out', certificatePath,
    ]);
    const [certificatePem, privateKeyPem] = await Promise.all([readFile(certificatePath, 'utf8'), readFile(privateKeyPath, 'utf8')]);
    return { certificatePem, privateKeyPem, fingerprint256: new X509Certificate(certificatePem).fingerprint256 };
  } finally {
    await folder.remove();
  }
}
