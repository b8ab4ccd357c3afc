import { youtubeDestinationSchema } from '../../../../functions/destinations/youtube/schema.ts';
import { youtubeUploader } from '../../../../functions/destinations/youtube/upload.ts';
import { runUpload } from '../../../../shared/delivery/attempt.ts';
import { outboundNetwork } from '../../../../shared/net/outbound-network.ts';
import { SourceReader } from '../../../../shared/sources/delivery-source.ts';
import { patternStream } from '../../input/pattern.ts';
import { runWorker } from './worker-io.ts';

/** What the YouTube bench asks of this worker: which upload, into which fake. */
export interface YouTubeBenchTask {
  readonly apiUrl: string;
  readonly token: string;
  readonly size: number;
  readonly title: string;
  /**
   * `ours`: the project's YouTube uploader, as its function calls it. `single-request`: the
   * ceiling, the whole file streamed in one PUT to a resumable session (no chunks to confirm).
   */
  readonly client: 'ours' | 'single-request';
}

const network = outboundNetwork({ allowPrivateNetworks: true });

async function ours(task: YouTubeBenchTask): Promise<unknown> {
  const destination = youtubeDestinationSchema.parse({ type: 'youtube', title: task.title, description: 'bench', status: 'private', oauth_access_token: task.token });
  const body = { stream: patternStream(task.size), startsAt: 0, size: task.size, contentType: 'video/mp4', name: 'bench.mp4', version: undefined };
  const source = new SourceReader(body, { reopen: () => Promise.reject(new Error('the bench source is read once')) });
  return runUpload(youtubeUploader({ apiUrl: task.apiUrl, tokenUrl: `${task.apiUrl}/token` }), {
    destination,
    source,
    signal: new AbortController().signal,
    resume: { state: undefined, save: async () => undefined },
    credentials: { reference: undefined, read: async () => ({}), update: async () => undefined },
    application: undefined,
    network,
  });
}

async function singleRequest(task: YouTubeBenchTask): Promise<unknown> {
  const started = await fetch(`${task.apiUrl}/upload/youtube/v3/videos?uploadType=resumable&part=snippet,status`, {
    method: 'POST',
    headers: { authorization: `Bearer ${task.token}`, 'content-type': 'application/json', 'x-upload-content-length': String(task.size) },
    body: JSON.stringify({ snippet: { title: task.title, description: 'bench' }, status: { privacyStatus: 'private' } }),
  });
  const put = await fetch(started.headers.get('location') ?? '', {
    method: 'PUT',
    headers: { 'content-length': String(task.size) },
    body: patternStream(task.size),
    duplex: 'half',
  } as RequestInit);
  if (put.status !== 200) throw new Error(`single PUT answered ${put.status}`);
  return put.json();
}

await runWorker((input) => {
  const task = input as unknown as YouTubeBenchTask;
  return task.client === 'ours' ? ours(task) : singleRequest(task);
});
