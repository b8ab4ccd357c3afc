import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { deliveriesFor, KiB, MiB, type Scenario, type ScenarioContext } from './scenario.ts';

const duplicated = new Set<string>();
let sqs: SQSClient | undefined;

/** Sends `body` to its destination's queue again, now or after `delayMs`: what SQS's at-least-once delivery does. */
function sendAgain(context: ScenarioContext, type: string, body: string, delayMs: number, label: string): void {
  const pipeline = context.runtime.pipeline;
  sqs ??= new SQSClient({ region: 'us-east-1', endpoint: pipeline.sqsEndpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const client = sqs;
  setTimeout(() => {
    client
      .send(new SendMessageCommand({ QueueUrl: pipeline.queueUrls[type], MessageBody: body }))
      .then(() => context.count(label), (error: unknown) => context.log(`could not duplicate a message: ${String(error)}`));
  }, delayMs);
}

/**
 * The same delivery message delivered more than once, as SQS may: a copy while the first is being
 * handled (another function takes it at the same time) and a copy after it finished.
 */
export const duplicateScenario: Scenario = {
  name: 'duplicate',
  description: 'duplicated SQS deliveries of the same message (at once, and after it finished)',
  plan: (types, scale) => deliveriesFor('duplicate', types, scale === 'full' ? [KiB, 1 * MiB + 7, 9 * MiB + 17, 33 * MiB + 5] : [KiB, 9 * MiB + 17]),
  onMessage: (body, context) => {
    const message = JSON.parse(body) as { token: string; index: number; destination: { type: string } };
    const key = `${message.token}#${message.index}`;
    if (duplicated.has(key)) return;
    duplicated.add(key);
    sendAgain(context, message.destination.type, body, 0, 'message delivered twice at once');
    sendAgain(context, message.destination.type, body, 20_000, 'message delivered again after it finished');
  },
};
