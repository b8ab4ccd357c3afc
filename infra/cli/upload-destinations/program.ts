import { Command, CommanderError, Option } from 'commander';
import { ApiError, UnreachableError } from './api-client.ts';
import { bucketPolicyCommand, type BucketPolicyOptions } from './commands/bucket-policy.ts';
import { list, type ListOptions } from './commands/list.ts';
import { redriveCommand, type RedriveCommandOptions } from './commands/redrive.ts';
import { retry } from './commands/retry.ts';
import { send, type SendOptions } from './commands/send.ts';
import { status } from './commands/status.ts';
import { testDestination } from './commands/test.ts';
import { UsageError, profileFile } from './connection.ts';
import { CliContext, exitCodes, type CliIo, type GlobalOptions } from './context.ts';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** Prints what went wrong and returns the exit status for it: the 400's fields as a list. */
function reportFailure(error: unknown, context: CliContext): number {
  if (error instanceof UsageError) {
    context.error(`error: ${error.message}`);
    return exitCodes.badInput;
  }
  if (error instanceof ApiError) {
    if (context.json) context.io.stdout.write(`${JSON.stringify({ status: error.status, ...error.body }, null, 2)}\n`);
    context.error(`error: ${error.message}`);
    for (const field of error.fields) context.error(`  - ${field.path || '(request)'}: ${field.message}`);
    return error.status >= 500 ? exitCodes.unavailable : error.status === 409 ? exitCodes.failed : exitCodes.badInput;
  }
  if (error instanceof UnreachableError) {
    context.error(`error: ${error.message}${error.message.includes('127.0.0.1') ? ' (is `npm start` running?)' : ''}`);
    return exitCodes.unavailable;
  }
  context.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  return exitCodes.failed;
}

/**
 * Runs `upload-destinations` with `argv` (the arguments after the program's name) and returns its
 * exit status; every byte goes through `io`, so tests run it in-process.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const program = new Command('upload-destinations');
  const context = new CliContext(io, () => program.opts<GlobalOptions>());
  let exitStatus: number = exitCodes.ok;
  // Commander calls an action with its arguments, its options and itself; the command gets the first two.
  const run =
    <Arguments extends unknown[]>(command: (...args: Arguments) => Promise<number>) =>
    async (...args: [...Arguments, Command]): Promise<void> => {
      exitStatus = await command(...(args.slice(0, -1) as Arguments)).catch((error: unknown) => reportFailure(error, context));
    };
  program
    .description('Deliver files and operate Upload Destinations: the local runtime by default, a deployed stack with --api or --profile.')
    .addOption(new Option('--api <url>', 'the API to talk to').env('UPLOAD_DESTINATIONS_API'))
    .addOption(new Option('--profile <name>', `a profile of ${profileFile(io.env)} (api, api_key, region)`).env('UPLOAD_DESTINATIONS_PROFILE'))
    .option('--json', 'print results as JSON (for scripts)')
    .option('--progress', 'show progress bars even off a terminal')
    .option('--no-progress', 'never show progress bars')
    .addHelpText('after', '\nThe API key comes from UPLOAD_DESTINATIONS_API_KEY or the profile.\nExit status: 0 done, 1 failed (a delivery, a test), 2 bad input, 3 API unreachable or failing.')
    .configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text) })
    .exitOverride()
    .showHelpAfterError();

  program
    .command('send')
    .description('deliver a local file (through a presigned upload) or a URL, and follow it to the end')
    .argument('<source>', 'a file, or an http(s) URL the service fetches')
    .requiredOption('--to <destination>', 'destination.json, or type:key=value,… (repeat for more)', collect)
    .option('--no-wait', 'print the token and return once accepted')
    .option('--callback-url <url>', 'receives a signed POST when every destination has finished')
    .option('--idempotency-key <key>', 'repeating the same send returns the same job')
    .option('--extension <ext>', "names the file when a filename is a folder and the source has no extension")
    .option('--content-type <type>', "the file's content type (guessed from its extension)")
    .action(run((source: string, options: SendOptions) => send(source, options, context)));

  program
    .command('status')
    .description('show a job and each destination')
    .argument('<token>')
    .option('--watch', 'follow it until it is final, with progress bars')
    .action(run((token: string, options: { watch?: boolean }) => status(token, { watch: options.watch ?? false }, context)));

  program
    .command('list')
    .description('list jobs, newest first')
    .option('--state <states>', 'only jobs in these states (comma-separated): failed, partially_failed, succeeded, in_progress, queued, awaiting_source, rejected')
    .option('--since <when>', 'only jobs since then: 30m, 1h, 7d or an ISO date-time')
    .option('--limit <n>', 'jobs per page (1-100)')
    .option('--cursor <cursor>', 'the page after the one that printed it')
    .option('--all', 'read every page')
    .action(run((options: Omit<ListOptions, 'all'> & { all?: boolean }) => list({ ...options, all: options.all ?? false }, context)));

  program
    .command('retry')
    .description("deliver a job's failed destinations again")
    .argument('<token>')
    .option('--index <n>', 'only this destination (repeat for more)', collect)
    .option('--permanent', 'also destinations that failed for good (after fixing the cause)')
    .option('--wait', 'follow the job until it is final')
    .action(run((token: string, options: { index?: string[]; permanent?: boolean; wait?: boolean }) =>
        retry(token, { ...(options.index ? { index: options.index } : {}), permanent: options.permanent ?? false, wait: options.wait ?? false }, context)));

  program
    .command('redrive')
    .description("move a destination's dead-letter queue (or the inbox's: inbox) back to its queue")
    .argument('<type>', 'a destination type, or inbox')
    .option('--dry-run', 'count the messages, move none')
    .option('--sqs-endpoint <url>', "the local runtime's SQS (default http://127.0.0.1:$SQS_PORT, 9324)")
    .option('--max-per-second <n>', 'deployed: a ceiling on messages moved per second')
    .action(run((type: string, options: Omit<RedriveCommandOptions, 'dryRun'> & { dryRun?: boolean }) => redriveCommand(type, { ...options, dryRun: options.dryRun ?? false }, context)));

  program
    .command('test')
    .description('check a destination the way a delivery would (credentials, network, permission to write), without delivering')
    .argument('<destination>', 'destination.json, or type:key=value,…')
    .action(run((destination: string) => testDestination(destination, context)));

  program
    .command('bucket-policy')
    .description("the account's canonical user ID and the bucket policy for bucket-policy mode (aws_use_policy)")
    .argument('<bucket>')
    .option('--canonical-user-id <id>', 'use this ID instead of asking')
    .option('--endpoint <url>', 'ask this S3 endpoint instead of AWS')
    .action(run((bucket: string, options: BucketPolicyOptions) => bucketPolicyCommand(bucket, options, context)));

  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? exitCodes.ok : exitCodes.badInput;
    return reportFailure(error, context);
  }
  return exitStatus;
}
