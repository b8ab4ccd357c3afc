import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { pipeline } from 'node:stream/promises';
import { patternStream } from '../../input/pattern.ts';
import { runWorker } from './worker-io.ts';

/** The ceiling: the same bytes as one streamed PUT with a Content-Length, no signing, no digests. */
await runWorker(async (task) => {
  const url = new URL(`/${task.bucket}/${task.key}`, task.endpoint);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const request = send(url, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream', 'content-length': task.size },
  });
  const answered = new Promise<string>((resolve, reject) => {
    request.on('response', (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (text: string) => (body += text));
      response.on('end', () => (response.statusCode === 200 ? resolve(body) : reject(new Error(`HTTP ${response.statusCode}: ${body}`))));
    });
    request.on('error', reject);
  });
  await pipeline(patternStream(task.size), request);
  return JSON.parse(await answered) as unknown;
});
