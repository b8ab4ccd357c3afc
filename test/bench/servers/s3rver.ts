import { createServer, type RequestListener } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { UploadClock } from './upload-clock.ts';

/**
 * s3rver (a real, disk-backed S3 emulator) on loopback, behind the same upload clock as the sink.
 * It ships no types, so only the few members used here are described; it is loaded with require
 * because it is CommonJS.
 */
interface S3rverInstance {
  callback(): RequestListener;
  configureBuckets(): Promise<void>;
}
type S3rverConstructor = new (options: Record<string, unknown>) => S3rverInstance;
interface AccountModule {
  readonly DUMMY_ACCOUNT: { createKeyPair(accessKeyId: string, secretAccessKey: string): void };
}

export interface S3rverServer {
  readonly endpoint: string;
  readonly clock: UploadClock;
  close(): Promise<void>;
}

export async function startS3rver(options: { directory: string; bucket: string; accessKeyId: string; secretAccessKey: string }): Promise<S3rverServer> {
  const require = createRequire(import.meta.url);
  const S3rver = require('s3rver') as S3rverConstructor;
  // s3rver refuses access keys it does not know; the bench's key pair joins its built-in account.
  (require('s3rver/lib/models/account') as AccountModule).DUMMY_ACCOUNT.createKeyPair(options.accessKeyId, options.secretAccessKey);
  const s3rver = new S3rver({
    silent: true,
    directory: options.directory,
    vhostBuckets: false,
    configureBuckets: [{ name: options.bucket }],
  });
  await s3rver.configureBuckets();
  const clock = new UploadClock();
  // Our own server around s3rver's request handler, so the clock sees every request.
  const server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 }, clock.wrap(s3rver.callback()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    clock,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
