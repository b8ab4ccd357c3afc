import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

export interface SelfSignedCertificate {
  readonly key: Buffer;
  readonly cert: Buffer;
  /** PEM file of the certificate, for clients that trust a CA bundle file (CLI, rclone, Node). */
  readonly certFile: string;
}

/**
 * A throw-away certificate for 127.0.0.1, made with openssl at run time so nothing secret is
 * committed. Each client is told to trust it (instead of disabling verification), so the HTTPS
 * runs pay for a real handshake and real verification, as uploads to S3 do.
 */
export async function selfSignedCertificate(directory: string): Promise<SelfSignedCertificate> {
  const keyFile = join(directory, 'sink-key.pem');
  const certFile = join(directory, 'sink-cert.pem');
  await promisify(execFile)('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '2',
    '-keyout', keyFile, '-out', certFile,
    '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ]);
  return { key: await readFile(keyFile), cert: await readFile(certFile), certFile };
}
