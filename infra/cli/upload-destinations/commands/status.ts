import { exitCodes, type CliContext } from '../context.ts';
import { describeJob, finalJobStates, type JobView } from '../job-view.ts';
import { watchJob } from '../watch.ts';

/** The exit status a job's state gives: 0 delivered, 1 failed in part or whole, 0 while it runs. */
export function exitCodeOf(job: JobView): number {
  if (!finalJobStates.has(job.state)) return exitCodes.ok;
  return job.state === 'succeeded' ? exitCodes.ok : exitCodes.failed;
}

/** `status <token> [--watch]`: the job and each destination; `--watch` follows it until it is final. */
export async function status(token: string, options: { readonly watch: boolean }, context: CliContext): Promise<number> {
  const client = await context.client();
  const job = options.watch ? await watchJob(client, token, context) : (await client.request<JobView>('GET', `/v1/uploads/${encodeURIComponent(token)}`)).body;
  context.result(job, describeJob(job));
  return exitCodeOf(job);
}
