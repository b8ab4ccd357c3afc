import { stat } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { exitCodes, type CliContext } from '../context.ts';
import { UsageError } from '../connection.ts';
import { parseDestinations } from '../destination-argument.ts';
import { describeJob } from '../job-view.ts';
import { putFile } from '../put-file.ts';
import { watchJob } from '../watch.ts';

export interface SendOptions {
  readonly to: readonly string[];
  readonly wait: boolean;
  readonly callbackUrl?: string;
  readonly idempotencyKey?: string;
  readonly extension?: string;
  readonly contentType?: string;
}

interface Accepted {
  readonly token: string;
  readonly upload_url?: string;
  readonly upload_headers?: Record<string, string>;
}

/** Content types of common files, so a presigned upload carries one; anything else is left to the destination's default. */
const contentTypes: Readonly<Record<string, string>> = {
  '.mp4': 'video/mp4',
  '.mov': 'video/quicktime',
  '.webm': 'video/webm',
  '.mp3': 'audio/mpeg',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.pdf': 'application/pdf',
  '.txt': 'text/plain',
  '.json': 'application/json',
};

/**
 * `send <file | url> --to …`: a URL is fetched by the service; a local file goes to the staging
 * bucket through the presigned door, with a progress bar. Then (unless `--no-wait`) it follows
 * the job with a bar per destination and exits 0 only when every destination succeeded.
 */
export async function send(source: string, options: SendOptions, context: CliContext): Promise<number> {
  if (options.to.length === 0) throw new UsageError('send needs at least one --to <destination.json | type:key=value,…>');
  const destinations = (await Promise.all(options.to.map(parseDestinations))).flat();
  const isUrl = /^https?:\/\//i.test(source);
  let size: number | undefined;
  if (!isUrl) {
    const file = await stat(source).catch(() => undefined);
    if (!file?.isFile()) throw new UsageError(`${source} is neither an http(s) URL nor a file`);
    size = file.size;
  }
  const contentType = options.contentType ?? contentTypes[extname(source).toLowerCase()];
  const request = {
    source: isUrl ? { url: source } : { presigned: { filename: basename(source), ...(contentType ? { content_type: contentType } : {}) } },
    upload: {
      ...(options.extension ? { extension: options.extension } : {}),
      ...(destinations.length === 1 ? { destination: destinations[0] } : { destinations }),
    },
    ...(options.callbackUrl ? { callback_url: options.callbackUrl } : {}),
    ...(options.idempotencyKey ? { idempotency_key: options.idempotencyKey } : {}),
  };
  const client = await context.client();
  const { body: accepted } = await client.request<Accepted>('POST', '/v1/uploads', request);
  context.note(`job ${accepted.token} accepted`);
  if (accepted.upload_url && size !== undefined) {
    const bars = context.progressBars();
    const bar = bars?.add('upload', size);
    try {
      await putFile(accepted.upload_url, accepted.upload_headers ?? {}, source, size, (bytes) => bar?.update(bytes));
    } finally {
      bars?.stop();
    }
    context.note(`uploaded ${basename(source)} to the staging bucket`);
  }
  if (!options.wait) {
    context.result({ token: accepted.token }, accepted.token);
    return exitCodes.ok;
  }
  const job = await watchJob(client, accepted.token, context, size === undefined ? {} : { sizeBytes: size });
  context.result(job, describeJob(job));
  return job.state === 'succeeded' ? exitCodes.ok : exitCodes.failed;
}
