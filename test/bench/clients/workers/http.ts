import { httpDestinationSchema } from '../../../../functions/destinations/http/schema.ts';
import { httpUploader } from '../../../../functions/destinations/http/upload.ts';
import { runUpload } from '../../../../shared/delivery/attempt.ts';
import { outboundNetwork } from '../../../../shared/net/outbound-network.ts';
import { SourceReader } from '../../../../shared/sources/delivery-source.ts';
import { patternStream } from '../../input/pattern.ts';
import { runWorker } from './worker-io.ts';

/** What the HTTP section asks of this worker (the worker protocol carries any JSON task). */
export interface HttpWorkerTask {
  readonly url: string;
  readonly method: 'POST' | 'PUT';
  readonly filename: string;
  readonly size: number;
}

/** The project's HTTP destination, called exactly as its function calls it (in the local runtime). */
const network = outboundNetwork({ allowPrivateNetworks: true });

await runWorker(async (raw) => {
  const task = raw as unknown as HttpWorkerTask;
  const destination = httpDestinationSchema.parse({ type: 'http', url: task.url, filename: task.filename, method: task.method });
  const body = { stream: patternStream(task.size), startsAt: 0, size: task.size, contentType: 'application/octet-stream', name: task.filename, version: undefined };
  const source = new SourceReader(body, { reopen: () => Promise.reject(new Error('the bench source is read once')) });
  return runUpload(httpUploader, {
    destination,
    source,
    signal: new AbortController().signal,
    resume: { state: undefined, save: async () => undefined },
    credentials: { reference: undefined, read: async () => ({}), update: async () => undefined },
    application: undefined,
    network,
  });
});
