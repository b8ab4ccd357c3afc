import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { deliveriesFor, KiB, MiB, type Scenario, type ScenarioContext } from './scenario.ts';

/**
 * The same delivery message delivered more than once, as SQS may: a copy while the first is being
 * handled (another function takes it at the same time) and a copy after it finished.
 */
export function duplicateScenario(): Scenario {
  const duplicated = new Set<string>();
  const sending: Promise<void>[] = [];
  let lateMilliseconds = 20_000;
  let sqs: { readonly endpoint: string; readonly client: SQSClient } | undefined;

  /** Sends `body` to its destination's queue again, after `delayMs`: what SQS's at-least-once delivery does. */
  const sendAgain = (context: ScenarioContext, type: string, body: string, delayMs: number, label: string): void => {
    const pipeline = context.runtime.pipeline;
    if (sqs?.endpoint !== pipeline.sqsEndpoint) {
      sqs?.client.destroy();
      sqs = { endpoint: pipeline.sqsEndpoint, client: new SQSClient({ region: 'us-east-1', endpoint: pipeline.sqsEndpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }) };
    }
    const { client } = sqs;
    sending.push(
      new Promise((resolve) => setTimeout(resolve, delayMs)).then(() =>
        client
          .send(new SendMessageCommand({ QueueUrl: pipeline.queueUrls[type], MessageBody: body }))
          .then(() => context.count(label), (error: unknown) => context.log(`could not duplicate a message: ${String(error)}`)),
      ),
    );
  };

  return {
    name: 'duplicate',
    description: 'duplicated SQS deliveries of the same message (at once, and after it finished)',
    plan: (types, scale) => {
      duplicated.clear();
      sending.length = 0;
      lateMilliseconds = scale === 'full' ? 20_000 : 5_000;
      return deliveriesFor('duplicate', types, scale === 'full' ? [KiB, 1 * MiB + 7, 9 * MiB + 17, 33 * MiB + 5] : [KiB, 9 * MiB + 17]);
    },
    // Done once every copy has been sent (the run then drains them too).
    during: async (context) => {
      while (!context.finished()) await new Promise((resolve) => setTimeout(resolve, 200));
      await Promise.all(sending);
    },
    onMessage: (body, context) => {
      const message = JSON.parse(body) as { token: string; index: number; destination: { type: string } };
      const key = `${message.token}#${message.index}`;
      if (duplicated.has(key)) return;
      duplicated.add(key);
      sendAgain(context, message.destination.type, body, 0, 'message delivered twice at once');
      sendAgain(context, message.destination.type, body, lateMilliseconds, 'message delivered again after it finished');
    },
  };
}
