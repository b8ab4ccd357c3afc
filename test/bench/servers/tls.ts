import { execFile } from 'node:child_process';
import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
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

/**
 * Starts a bench server on loopback, over TLS when given a certificate. Keep-alive outlasts every
 * client's pool and no request times out: a 1 GiB PUT must not be cut off.
 */
export async function listenOnLoopback(
  listener: RequestListener,
  tls: { key: Buffer; cert: Buffer } | undefined,
): Promise<{ server: Server; endpoint: string }> {
  const serverOptions = { keepAliveTimeout: 65_000, requestTimeout: 0 };
  const server: Server = tls ? createHttpsServer({ ...serverOptions, key: tls.key, cert: tls.cert }, listener) : createHttpServer(serverOptions, listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, endpoint: `${tls ? 'https' : 'http'}://127.0.0.1:${port}` };
}
