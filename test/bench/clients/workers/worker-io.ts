/**
 * The contract between the bench and a client worker: one JSON argument in, one JSON line out.
 * Workers run as their own bundled processes so the bench can charge each one exactly its CPU and
 * memory (the sink runs in the bench's process and is never counted).
 */
export interface WorkerTask {
  readonly endpoint: string;
  readonly bucket: string;
  readonly key: string;
  readonly size: number;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Client-specific knobs (e.g. lib-storage part size), for tuning runs. */
  readonly tuning?: Readonly<Record<string, number>>;
  /** Where `ours` reads the input from, as a function reads a source URL; else it generates it. */
  readonly sourceUrl?: string;
}

/**
 * The S3 destination fields a task describes, as a request would give them. The sink and s3rver
 * ignore ACLs; sending none (`bucket-default`) keeps the request what a modern bucket gets.
 */
export function destinationFields(task: WorkerTask): Record<string, unknown> {
  return {
    type: 's3',
    bucket: task.bucket,
    filename: task.key,
    endpoint: task.endpoint,
    region: task.region,
    aws_access_key_id: task.accessKeyId,
    aws_secret_access_key: task.secretAccessKey,
    acl: 'bucket-default',
  };
}

export interface WorkerReport {
  /** Time and CPU of the upload itself, without process start-up and module loading. */
  readonly uploadMs: number;
  readonly uploadCpuMs: number;
  readonly maxRssKiB: number;
  readonly detail: unknown;
}

export function readTask<Task = WorkerTask>(): Task {
  const argument = process.argv[2];
  if (!argument) throw new Error('usage: worker <task JSON>');
  return JSON.parse(argument) as Task;
}

/** Runs the upload, timing it from inside, and prints the report as the last line of stdout. */
export async function runWorker<Task = WorkerTask>(upload: (task: Task) => Promise<unknown>): Promise<void> {
  const task = readTask<Task>();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const detail = await upload(task);
  const uploadMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const report: WorkerReport = {
    uploadMs,
    uploadCpuMs: (cpu.user + cpu.system) / 1000,
    maxRssKiB: process.resourceUsage().maxRSS,
    detail,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}
