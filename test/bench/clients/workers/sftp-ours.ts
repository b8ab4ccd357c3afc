import { sftpDestinationSchema } from '../../../../functions/destinations/sftp/schema.ts';
import { sftpUploader } from '../../../../functions/destinations/sftp/upload.ts';
import { runUpload } from '../../../../shared/delivery/attempt.ts';
import { outboundNetwork } from '../../../../shared/net/outbound-network.ts';
import { SourceReader } from '../../../../shared/sources/delivery-source.ts';
import { patternStream } from '../../input/pattern.ts';

/**
 * The project's SFTP destination, called as its function calls it, uploading `size` bytes of the
 * bench pattern generated as a stream. Argument: `{ "destination": {…}, "size": N }` as JSON.
 * Prints what the service recorded (bytes, CRC-32, URL, details) as one JSON line.
 */
const task = JSON.parse(process.argv[2] ?? '{}') as { destination: Record<string, unknown>; size: number };
const destination = sftpDestinationSchema.parse(task.destination);
const body = { stream: patternStream(task.size), startsAt: 0, size: task.size, contentType: 'application/octet-stream', name: 'bench.bin', version: undefined };
const source = new SourceReader(body, { reopen: () => Promise.reject(new Error('the bench source is read once')) });
const delivered = await runUpload(sftpUploader, {
  destination,
  source,
  signal: new AbortController().signal,
  resume: { state: undefined, save: async () => undefined },
  credentials: { reference: undefined, read: async () => ({}), update: async () => undefined },
  application: undefined,
  network: outboundNetwork({ allowPrivateNetworks: true }),
});
process.stdout.write(`${JSON.stringify(delivered)}\n`);
