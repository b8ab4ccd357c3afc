import { GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { parseArgs } from 'node:util';
import { destinationTypes } from '../../functions/destinations/registry.ts';
import { resourceNames } from '../resources.ts';
import { redriveByMoving, redriveWithMoveTask } from './redrive/move-messages.ts';

/**
 * `npm run redrive -- <type> [--dry-run] [--local | --endpoint URL]`: moves a destination's
 * dead-letter queue back to its queue, after the cause of the failures was fixed. In AWS (the
 * current credentials and region) it starts an SQS message move task; against the local runtime
 * (`--local`, or an SQS `--endpoint`) it moves the messages itself. `--dry-run` moves nothing and
 * says what would be redriven.
 */
const usage = `usage: npm run redrive -- <type> [--dry-run] [--local | --endpoint URL]
  <type>       ${destinationTypes.join(', ')}
  --dry-run    count (and, locally, list) the dead-lettered deliveries, move nothing
  --local      the local runtime's SQS (npm start), at http://127.0.0.1:$SQS_PORT (9324)
  --endpoint   another SQS endpoint without message move tasks`;

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { 'dry-run': { type: 'boolean', default: false }, local: { type: 'boolean', default: false }, endpoint: { type: 'string' }, help: { type: 'boolean', default: false } },
});
const type = positionals[0];
if (values.help || !type || positionals.length > 1) {
  console.error(usage);
  process.exit(2);
}
if (!(destinationTypes as readonly string[]).includes(type)) {
  console.error(`unknown destination type '${type}'; known: ${destinationTypes.join(', ')}`);
  process.exit(2);
}
const endpoint = values.endpoint ?? (values.local ? `http://127.0.0.1:${process.env.SQS_PORT ?? 9324}` : undefined);
const sqs = new SQSClient({
  region: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
  ...(endpoint === undefined ? {} : { endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
});
const dryRun = values['dry-run'];
try {
  const urlOf = async (name: string): Promise<string> => (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl ?? '';
  const deadLetterQueue = await urlOf(resourceNames.destinationDeadLetterQueue(type));
  if (endpoint !== undefined) {
    const outcome = await redriveByMoving(sqs, deadLetterQueue, await urlOf(resourceNames.destinationQueue(type)), { dryRun });
    for (const letter of outcome.deadLetters) console.log(`  ${letter.token ?? '(no job named)'}${letter.index === undefined ? '' : ` #${letter.index}`}  message ${letter.messageId}`);
    console.log(`${dryRun ? 'would redrive' : 'redrove'} ${outcome.messages} message(s) of ${resourceNames.destinationDeadLetterQueue(type)} to ${resourceNames.destinationQueue(type)}`);
  } else {
    const outcome = await redriveWithMoveTask(sqs, deadLetterQueue, { dryRun });
    console.log(`${outcome.messages} message(s) in ${resourceNames.destinationDeadLetterQueue(type)}`);
    if (outcome.taskHandle) console.log(`started a message move task back to ${resourceNames.destinationQueue(type)} (handle ${outcome.taskHandle})`);
    else if (!dryRun) console.log('nothing to redrive');
    for (const task of outcome.tasks) console.log(`  move task ${task.status}: ${task.moved}${task.toMove === undefined ? '' : ` of ${task.toMove}`} moved`);
  }
} catch (error) {
  console.error(`redrive failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  sqs.destroy();
}
