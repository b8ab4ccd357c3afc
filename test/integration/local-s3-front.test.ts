import { existsSync } from 'node:fs';
import { request, type IncomingHttpHeaders } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crc32Base64 } from '../../shared/delivery/checksum.ts';
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

/** A GET as the store answers it, its body not decoded (fetch would gunzip it). */
function rawGet(path: string): Promise<{ headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const { port } = new URL(s3.endpoint);
    request({ host: '127.0.0.1', port, path }, (answer) => {
      const chunks: Buffer[] = [];
      answer.on('data', (chunk: Buffer) => chunks.push(chunk)).once('end', () => resolve({ headers: answer.headers, body: Buffer.concat(chunks) }));
    })
      .on('error', reject)
      .end();
  });
}

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

  describe('given an aws-chunked PutObject', () => {
    const payload = Buffer.from('a delivered file, framed in two chunks\n');
    /** The body as S3's streaming uploads frame it: two chunks, the final empty one, and trailers. */
    const framed = (trailers: string, decoded = payload) =>
      Buffer.concat([
        Buffer.from(`10\r\n`),
        decoded.subarray(0, 16),
        Buffer.from(`\r\n${(decoded.length - 16).toString(16)}\r\n`),
        decoded.subarray(16),
        Buffer.from(`\r\n0\r\n${trailers}\r\n`),
      ]);
    const put = (key: string, body: Buffer, headers: Record<string, string> = {}) =>
      fetch(`${s3.endpoint}/deliveries/${key}`, {
        method: 'PUT',
        body,
        headers: {
          'content-encoding': 'aws-chunked',
          'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
          'x-amz-decoded-content-length': String(payload.length),
          'x-amz-trailer': 'x-amz-checksum-crc32',
          ...headers,
        },
      });

    it('stores the payload, not the framing, keeping the other content encodings', async () => {
      const answer = await put('chunked.txt', framed(`x-amz-checksum-crc32:${crc32Base64(crc32(payload))}\r\n`), { 'content-encoding': 'aws-chunked,gzip' });

      expect(answer.status).toBe(200);
      const stored = await rawGet('/deliveries/chunked.txt');
      expect(stored.body).toEqual(payload);
      expect(stored.headers['content-encoding']).toBe('gzip');
    });

    it.each([
      ['a CRC-32 trailer that does not match', framed('x-amz-checksum-crc32:AAAAAA==\r\n'), 'BadDigest'],
      ['a declared trailer that never came', framed(''), 'MalformedTrailerError'],
      ['fewer bytes than x-amz-decoded-content-length', framed('', payload.subarray(0, 30)), 'IncompleteBody'],
      ['framing that breaks off', framed('').subarray(0, 40), 'IncompleteBody'],
      ['a chunk size that is not hexadecimal', Buffer.from('zz\r\nabc\r\n0\r\n\r\n'), 'InvalidRequest'],
    ])('refuses one with %s as S3 does, and stores nothing', async (_case, body, code) => {
      const key = `refused-${code}-${body.length}.txt`;

      const answer = await put(key, body);

      expect(answer.status).toBe(400);
      expect(await answer.text()).toContain(`<Code>${code}</Code>`);
      expect((await fetch(`${s3.endpoint}/deliveries/${key}`)).status).toBe(404);
    });
  });
});

