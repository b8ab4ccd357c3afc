import { facebookDestinationSchema } from '../../../../functions/destinations/facebook/schema.ts';
import { facebookUploader } from '../../../../functions/destinations/facebook/upload.ts';
import { runUpload } from '../../../../shared/delivery/attempt.ts';
import { outboundNetwork } from '../../../../shared/net/outbound-network.ts';
import { SourceReader } from '../../../../shared/sources/delivery-source.ts';
import { patternStream } from '../../input/pattern.ts';
import { runWorker } from './worker-io.ts';

/** One upload into the Graph fake: its base URL, the token (and Page, for a system user's token). */
export interface FacebookTask {
  readonly endpoint: string;
  readonly token: string;
  readonly pageId?: string;
  readonly size: number;
}

/** The project's Facebook destination, called exactly as its function calls it (in the local runtime). */
const network = outboundNetwork({ allowPrivateNetworks: true });

await runWorker<FacebookTask>(async (task) => {
  const destination = facebookDestinationSchema.parse({
    type: 'facebook',
    title: 'Bench',
    description: 'Bench upload',
    endpoint: task.endpoint,
    oauth_access_token: task.token,
    ...(task.pageId === undefined ? {} : { page_id: task.pageId }),
  });
  const body = { stream: patternStream(task.size), startsAt: 0, size: task.size, contentType: 'video/mp4', name: 'bench.mp4', version: undefined };
  const source = new SourceReader(body, { reopen: () => Promise.reject(new Error('the bench source is read once')) });
  return runUpload(facebookUploader, {
    destination,
    source,
    signal: new AbortController().signal,
    resume: { state: undefined, save: async () => undefined },
    credentials: { reference: undefined, read: async () => ({}), update: async () => undefined },
    application: undefined,
    network,
  });
});
