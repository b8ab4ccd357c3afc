import { ftpDestinationSchema } from '../../../../functions/destinations/ftp/schema.ts';
import { ftpUploader } from '../../../../functions/destinations/ftp/upload.ts';
import { runUpload } from '../../../../shared/delivery/attempt.ts';
import { outboundNetwork } from '../../../../shared/net/outbound-network.ts';
import { SourceReader } from '../../../../shared/sources/delivery-source.ts';
import { patternStream } from '../../input/pattern.ts';

/** One FTP upload: the destination object as a request gives it, and the source's size. */
export interface FtpWorkerTask {
  readonly destination: Record<string, unknown>;
  readonly size: number;
}

/** The project's FTP destination, called as its function calls it (in the local runtime). */
const network = outboundNetwork({ allowPrivateNetworks: true });
const task = JSON.parse(process.argv[2] ?? '{}') as FtpWorkerTask;
const destination = ftpDestinationSchema.parse(task.destination);
const body = { stream: patternStream(task.size), startsAt: 0, size: task.size, contentType: 'application/octet-stream', name: 'bench.bin', version: undefined };
const source = new SourceReader(body, { reopen: () => Promise.reject(new Error('the bench source is read once')) });
const delivered = await runUpload(ftpUploader, {
  destination,
  source,
  signal: new AbortController().signal,
  resume: { state: undefined, save: async () => undefined },
  credentials: { reference: undefined, read: async () => ({}), update: async () => undefined },
  application: undefined,
  network,
});
await ftpUploader.shutdown?.();
process.stdout.write(`${JSON.stringify(delivered)}\n`);
