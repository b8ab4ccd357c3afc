import { createReadStream } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * PUTs the file at `path` (`size` bytes) to a presigned URL, streamed, telling `onProgress` the
 * bytes sent so far. A presigned S3 URL wants the length up front (no chunked body), and the
 * headers the presigning asked for.
 */
export async function putFile(url: string, headers: Readonly<Record<string, string>>, path: string, size: number, onProgress: (bytes: number) => void): Promise<void> {
  const target = new URL(url);
  const request = (target.protocol === 'https:' ? httpsRequest : httpRequest)(target, {
    method: 'PUT',
    headers: { ...headers, 'content-length': String(size) },
  });
  const answered = new Promise<void>((resolve, reject) => {
    request.once('error', reject);
    request.once('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const status = response.statusCode ?? 0;
        if (status >= 200 && status < 300) resolve();
        else reject(new Error(`the upload URL answered ${status}: ${Buffer.concat(chunks).toString().slice(0, 300)}`));
      });
      response.on('error', reject);
    });
  });
  let sent = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      sent += chunk.length;
      onProgress(sent);
      callback(null, chunk);
    },
  });
  await Promise.all([pipeline(createReadStream(path), counter, request), answered]);
}
