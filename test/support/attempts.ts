import type * as z from 'zod/mini';
import { withFolderPathsCompleted } from '../../shared/contract/field-kinds.ts';
import { classifyFailure, runUpload } from '../../shared/delivery/attempt.ts';
import type { DestinationModule } from '../../shared/delivery/runner.ts';
import type { DeliveryError } from '../../shared/errors.ts';
import type { DeliveredFile } from '../../shared/jobs/records.ts';
import type { SourceReader } from '../../shared/sources/delivery-source.ts';
import { uploadContext } from './sources.ts';

/** The resume slot, signal, network and stored credentials an attempt runs with (test defaults otherwise). */
export type AttemptOptions<State> = NonNullable<Parameters<typeof uploadContext<unknown, State>>[2]>;

/**
 * One upload attempt as the runner makes it, without the queue and the job table: the folder rule
 * applied, the upload run, the file's bytes and checksum taken from what was read.
 */
export async function attemptUpload<Schema extends z.ZodMiniObject, State>(
  { definition, uploader }: DestinationModule<Schema, State>,
  destination: z.output<Schema>,
  source: SourceReader,
  options: AttemptOptions<State> = {},
): Promise<DeliveredFile> {
  const completed = withFolderPathsCompleted(definition.schema, destination, source.name);
  try {
    return await runUpload(uploader, uploadContext(completed, source, options));
  } finally {
    source.close();
  }
}

/** The attempt's failure as the runner classifies it (it must fail). */
export async function attemptFailure<Schema extends z.ZodMiniObject, State>(
  module: DestinationModule<Schema, State>,
  destination: z.output<Schema>,
  source: SourceReader,
  options: AttemptOptions<State> = {},
): Promise<DeliveryError> {
  try {
    await attemptUpload(module, destination, source, options);
  } catch (error) {
    return classifyFailure(module.uploader as never, error);
  }
  throw new Error('the attempt was expected to fail, and succeeded');
}
