/** A destination of a job, as `GET /v1/uploads/{token}` shows it (the fields the CLI reads). */
export interface DestinationView {
  readonly index: number;
  readonly type: string;
  readonly state: string;
  readonly url: string | null;
  readonly bytes: number | null;
  readonly bytes_sent?: number;
  readonly attempts: number;
  readonly wait_until?: string;
  readonly error: { readonly code: string; readonly message: string } | null;
}

/** A job, as `GET /v1/uploads/{token}` shows it. */
export interface JobView {
  readonly token: string;
  readonly state: string;
  readonly created_at: string;
  readonly origin?: string;
  readonly upload: string;
  readonly errors?: readonly { readonly path: string; readonly message: string }[];
  readonly destinations: readonly DestinationView[];
}

/** Job states after which nothing more happens (until a retry). */
export const finalJobStates: ReadonlySet<string> = new Set(['succeeded', 'failed', 'partially_failed', 'rejected']);

const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** `3.0 MiB` */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** One line per destination: its outcome, where it went or why it did not. */
export function describeDestination(destination: DestinationView): string {
  const mark = destination.state === 'succeeded' ? '✓' : destination.state === 'failed' ? '✗' : '…';
  const head = `${mark} #${destination.index} ${destination.type} ${destination.state}`;
  const attempts = `${destination.attempts} attempt${destination.attempts === 1 ? '' : 's'}`;
  if (destination.state === 'succeeded') return `${head} (${formatBytes(destination.bytes ?? 0)}, ${attempts}) → ${destination.url}`;
  if (destination.error) return `${head} (${attempts}): ${destination.error.code}: ${destination.error.message}`;
  if (destination.wait_until) return `${head} until ${destination.wait_until}`;
  return destination.bytes_sent === undefined ? head : `${head} (${formatBytes(destination.bytes_sent)} sent)`;
}

/** The job as a few lines: token and state, then each destination. */
export function describeJob(job: JobView): string {
  const lines = [`${job.token}  ${job.state}  created ${job.created_at}`];
  for (const error of job.errors ?? []) lines.push(`  ✗ ${error.path || '(request)'}: ${error.message}`);
  for (const destination of job.destinations) lines.push(`  ${describeDestination(destination)}`);
  return lines.join('\n');
}
