import { dropboxDestinationSchema } from '../../../../functions/destinations/dropbox/schema.ts';
import { dropboxUploader } from '../../../../functions/destinations/dropbox/upload.ts';
import { runUpload } from '../../../../shared/delivery/attempt.ts';
import { outboundNetwork } from '../../../../shared/net/outbound-network.ts';
import { SourceReader } from '../../../../shared/sources/delivery-source.ts';
import { patternStream } from '../../input/pattern.ts';

/** One upload into the Dropbox fake: `{ url, token, path, size, chunkBytes }` in, a report line out. */
interface DropboxTask {
  readonly url: string;
  readonly token: string;
  readonly path: string;
  readonly size: number;
  readonly chunkBytes: number;
}

const task = JSON.parse(process.argv[2] ?? '{}') as DropboxTask;
const uploader = dropboxUploader({ endpoints: { api: task.url, content: task.url }, chunkBytes: task.chunkBytes });
const destination = dropboxDestinationSchema.parse({ type: 'dropbox', filename: task.path, oauth_token: task.token, mode: 'overwrite' });
const source = new SourceReader(
  { stream: patternStream(task.size), startsAt: 0, size: task.size, contentType: 'application/octet-stream', name: 'bench.bin', version: undefined },
  { reopen: () => Promise.reject(new Error('the bench source is read once')) },
);
const cpuBefore = process.cpuUsage();
const started = performance.now();
const delivered = await runUpload(uploader, {
  destination,
  source,
  signal: new AbortController().signal,
  network: outboundNetwork({ allowPrivateNetworks: true }),
  resume: { state: undefined, save: async () => undefined },
  credentials: { reference: undefined, read: async () => ({}), update: async () => undefined },
  application: undefined,
});
const cpu = process.cpuUsage(cpuBefore);
process.stdout.write(
  `${JSON.stringify({ uploadMs: performance.now() - started, uploadCpuMs: (cpu.user + cpu.system) / 1000, maxRssKiB: process.resourceUsage().maxRSS, detail: delivered })}\n`,
);
