import { SQSClient } from '@aws-sdk/client-sqs';
import { describeDeadLetter, redrive } from '../../redrive.ts';
import { exitCodes, type CliContext } from '../context.ts';
import { httpUrlOption, UsageError } from '../connection.ts';

export interface RedriveCommandOptions {
  readonly dryRun: boolean;
  /** The SQS endpoint of the local runtime. @default http://127.0.0.1:$SQS_PORT (9324) */
  readonly sqsEndpoint?: string;
  readonly maxPerSecond?: string;
}

/**
 * `redrive <type> [--dry-run]`: a destination's dead-letter queue back to its queue. Against a
 * deployed stack (`--api` or a profile) with the AWS credentials of the environment and SQS's own
 * move task; against the local runtime by receiving, sending and deleting.
 */
export async function redriveCommand(type: string, options: RedriveCommandOptions, context: CliContext): Promise<number> {
  if (options.sqsEndpoint !== undefined) httpUrlOption('--sqs-endpoint', options.sqsEndpoint);
  const connection = await context.connection();
  const local = options.sqsEndpoint !== undefined || connection.local;
  const endpoint = options.sqsEndpoint ?? `http://127.0.0.1:${context.io.env.SQS_PORT ?? 9324}`;
  const sqs = local
    ? new SQSClient({ region: 'us-east-1', endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } })
    : new SQSClient(connection.region ? { region: connection.region } : {});
  try {
    const maxMessagesPerSecond = options.maxPerSecond === undefined ? undefined : Number(options.maxPerSecond);
    if (maxMessagesPerSecond !== undefined && (!Number.isInteger(maxMessagesPerSecond) || maxMessagesPerSecond < 1 || maxMessagesPerSecond > 500)) {
      throw new UsageError('--max-per-second must be an integer from 1 to 500');
    }
    let result;
    try {
      result = await redrive({ sqs, type, dryRun: options.dryRun, method: local ? 'copy' : 'move-task', ...(maxMessagesPerSecond ? { maxMessagesPerSecond } : {}) });
    } catch (error) {
      if (error instanceof RangeError) throw new UsageError(error.message);
      throw error;
    }
    const where = `${type}'s dead-letter queue`;
    const named = (result.deadLetters ?? []).map((letter) => `\n  ${describeDeadLetter(letter)}`).join('');
    const text = result.dryRun
      ? `${result.deadLetters?.length ?? result.waiting} message(s) in ${where}; nothing moved (dry run)${named}`
      : result.taskHandle
        ? `moving ${result.waiting} message(s) from ${where} back to its queue (task ${result.taskHandle}; follow it with aws sqs list-message-move-tasks --source-arn …)`
        : `moved ${result.moved} message(s) from ${where} back to its queue${named}`;
    context.result(result, text);
    return exitCodes.ok;
  } finally {
    sqs.destroy();
  }
}
