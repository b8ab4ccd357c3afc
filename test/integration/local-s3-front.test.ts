import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalS3, type LocalS3 } from '../../infra/local/s3-server.ts';

let directory: string;
let s3: LocalS3;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'ud-s3-front-'));
  s3 = await startLocalS3({ directory: join(directory, 'store'), buckets: ['deliveries'] });
});

afterAll(async () => {
  await s3.close();
  await rm(directory, { recursive: true, force: true });
});

describe('The local S3 front', () => {
  it('refuses an upload id that climbs out of its folder, deleting nothing', async () => {
    const sentinel = join(directory, 'keep-me');
    await writeFile(sentinel, 'x');

    const answer = await fetch(`${s3.endpoint}/deliveries/a.bin?uploadId=${encodeURIComponent('../../../keep-me')}`, { method: 'DELETE' });

    expect(answer.status).toBe(404);
    expect(existsSync(sentinel)).toBe(true);
  });

  it.each(['/deliveries/../../escape.bin', '/deliveries/a/%2E%2E/%2E%2E/%2E%2E/escape.bin', '/%2E%2E/escape.bin'])('refuses the path %s', async (path) => {
    // Sent as written: fetch would resolve the dots before they reach the server.
    const status = await new Promise<number>((resolve, reject) => {
      const { port } = new URL(s3.endpoint);
      const sent = request({ host: '127.0.0.1', port, path, method: 'PUT', headers: { 'content-length': '1' } }, (answer) => {
        answer.resume();
        resolve(answer.statusCode ?? 0);
      });
      sent.on('error', reject).end('x');
    });

    expect(status).toBe(400);
    expect(existsSync(join(directory, 'escape.bin'))).toBe(false);
  });
});
