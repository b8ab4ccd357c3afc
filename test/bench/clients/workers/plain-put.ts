import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { pipeline } from 'node:stream/promises';
import { patternRanges, patternStream } from '../../input/pattern.ts';
import { runWorker } from './worker-io.ts';

/** One streamed PUT of a range of the pattern, answered with what the server counted. */
async function put(url: URL, start: number, size: number): Promise<unknown> {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const request = send(url, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream', 'content-length': size },
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
  await pipeline(patternStream(size, start), request);
  return JSON.parse(await answered) as unknown;
}

/**
 * The ceilings: the same bytes as one streamed PUT with a Content-Length, no signing, no digests;
 * with `tuning.streams` = N, as N such PUTs at once, each a consecutive range of the file
 * (`?part=1…N`), so the server can put the whole together and its clock times all of them.
 */
await runWorker(async (task) => {
  const streams = task.tuning?.streams ?? 1;
  const url = new URL(`/${task.bucket}/${task.key}`, task.endpoint);
  if (streams === 1) return put(url, 0, task.size);
  return Promise.all(
    patternRanges(task.size, streams).map((range, index) => {
      const part = new URL(url);
      part.searchParams.set('part', String(index + 1));
      return put(part, range.start, range.size);
    }),
  );
});
