import * as clientModule from '../../../../functions/destinations/s3/client.ts';
import * as multipartModule from '../../../../functions/destinations/s3/multipart.ts';
import { s3DestinationSchema } from '../../../../functions/destinations/s3/schema.ts';
import type { NetworkPolicy } from '../../../../shared/net/guarded-connect.ts';
import { SourceReader } from '../../../../shared/sources/delivery-source.ts';
import { patternSource } from './pattern-source.ts';
import { destinationFields, runWorker } from './worker-io.ts';

/**
 * The project's multipart code with other settings, for the tuning sweep: the size of the parts
 * it sends (read by themselves, or held), parts in flight, the in-flight byte budget, the smallest and largest files sent as one streamed PutObject and whether
 * parts are read by themselves (`streamedParts`: 1) or held from one read (0). It reaches
 * into the destination's internals, so it looks them up at run time and says what is missing when
 * they move.
 */
interface Settings {
  readonly partSize: number;
  readonly streamedPartSize: number;
  readonly concurrency: number;
  readonly maxBytesInFlight: number;
  readonly streamedPutMaxBytes: number;
  readonly streamedPutMinBytes: number;
  readonly streamedParts: boolean;
}
/** The destination's API of one store, as this worker passes it along. */
type S3Api = object;
type StreamToS3 = (
  clients: { transfer: S3Api; commit: S3Api },
  parameters: { bucket: string; key: string; headers: Record<string, string> },
  source: SourceReader,
  resume: { state: undefined; save: () => Promise<void> },
  signal: AbortSignal,
  settings: Settings,
) => Promise<unknown>;

const MiB = 1024 * 1024;

/** The bench servers listen on loopback. */
const network: NetworkPolicy = { allowPrivateNetworks: true };

function lookup<T>(module: object, name: string, file: string): T {
  const value = (module as Record<string, unknown>)[name];
  if (value === undefined) throw new Error(`${file} no longer exports ${name}; update test/bench/clients/workers/ours-tuned.ts`);
  return value as T;
}

await runWorker(async (task) => {
  const s3ApiFor = lookup<(destination: unknown, network: NetworkPolicy, options?: { retries?: boolean }) => S3Api>(
    clientModule,
    's3ApiFor',
    'functions/destinations/s3/client.ts',
  );
  const streamToS3 = lookup<StreamToS3>(multipartModule, 'streamToS3', 'functions/destinations/s3/multipart.ts');
  const defaults = lookup<Settings>(multipartModule, 'defaultMultipartSettings', 'functions/destinations/s3/multipart.ts');
  const tuning = task.tuning ?? {};
  const streamedParts = tuning.streamedParts === undefined ? defaults.streamedParts : tuning.streamedParts === 1;
  // The size asked for is that of the parts the variant sends.
  const sized = tuning.partSizeMiB === undefined ? {} : { [streamedParts ? 'streamedPartSize' : 'partSize']: tuning.partSizeMiB * MiB };
  const settings: Settings = {
    partSize: defaults.partSize,
    streamedPartSize: defaults.streamedPartSize,
    ...sized,
    concurrency: tuning.concurrency ?? defaults.concurrency,
    maxBytesInFlight: tuning.maxBytesInFlightMiB === undefined ? defaults.maxBytesInFlight : tuning.maxBytesInFlightMiB * MiB,
    streamedPutMaxBytes: tuning.streamedPutMaxMiB === undefined ? defaults.streamedPutMaxBytes : tuning.streamedPutMaxMiB * MiB,
    streamedPutMinBytes: tuning.streamedPutMinMiB === undefined ? defaults.streamedPutMinBytes : tuning.streamedPutMinMiB * MiB,
    streamedParts,
  };
  const destination = s3DestinationSchema.parse(destinationFields(task));
  const source = patternSource(task.size, 'bench.bin');
  await streamToS3(
    { transfer: s3ApiFor(destination, network), commit: s3ApiFor(destination, network, { retries: false }) },
    { bucket: task.bucket, key: task.key, headers: { 'content-type': 'application/octet-stream' } },
    source,
    { state: undefined, save: async () => undefined },
    new AbortController().signal,
    settings,
  );
  return { settings };
});
