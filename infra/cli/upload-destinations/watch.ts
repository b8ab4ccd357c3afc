import type { ApiClient } from './api-client.ts';
import type { CliContext } from './context.ts';
import { finalJobStates, type JobView } from './job-view.ts';
import type { ByteBar } from './progress.ts';

export interface WatchOptions {
  /** The file's size, when known: each destination's bar counts to it. */
  readonly sizeBytes?: number;
  /** @default 1000 */
  readonly pollMilliseconds?: number;
}

/**
 * Follows a job until it is final, with a bar per destination from the `bytes_sent` the job shows
 * while each upload runs (written every few seconds by the uploading function), and returns it.
 */
export async function watchJob(client: ApiClient, token: string, context: CliContext, options: WatchOptions = {}): Promise<JobView> {
  const bars = context.progressBars();
  const destinationBars = new Map<number, ByteBar>();
  try {
    for (;;) {
      const { body: job } = await client.request<JobView>('GET', `/v1/uploads/${encodeURIComponent(token)}`);
      for (const destination of job.destinations) {
        if (!bars) break;
        let bar = destinationBars.get(destination.index);
        if (!bar) {
          bar = bars.add(`#${destination.index} ${destination.type}`, options.sizeBytes ?? destination.bytes ?? undefined);
          destinationBars.set(destination.index, bar);
        }
        bar.update(destination.state === 'succeeded' ? (destination.bytes ?? 0) : (destination.bytes_sent ?? 0), `#${destination.index} ${destination.type} ${destination.state}`);
      }
      if (finalJobStates.has(job.state)) return job;
      await new Promise((resolve) => setTimeout(resolve, options.pollMilliseconds ?? 1000));
    }
  } finally {
    bars?.stop();
  }
}
