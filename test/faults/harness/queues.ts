import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { LocalPipeline } from '../../../infra/local/pipeline.ts';
import { redrive, type DeadLetter } from '../../../infra/cli/redrive.ts';

/** A dead-lettered delivery, with the destination whose queue held it. */
export interface DeadLetterFound extends DeadLetter {
  readonly type: string;
}

/** The run's view of the runtime's queues, from SQS itself (not through the fault proxy). */
export class RunQueues {
  private readonly sqs: SQSClient;

  public constructor(private readonly pipeline: LocalPipeline) {
    this.sqs = new SQSClient({ region: 'us-east-1', endpoint: pipeline.sqsEndpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  }

  /** Messages of the destination queues (and the inbox) that are waiting, in flight or delayed. */
  public async pending(): Promise<number> {
    const urls = [...Object.values(this.pipeline.queueUrls), this.pipeline.inboxQueueUrl];
    const counts = await Promise.all(
      urls.map(async (url) => {
        const { Attributes } = await this.sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: url,
            AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
          }),
        );
        return Number(Attributes?.ApproximateNumberOfMessages ?? 0) + Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0) + Number(Attributes?.ApproximateNumberOfMessagesDelayed ?? 0);
      }),
    );
    return counts.reduce((sum, count) => sum + count, 0);
  }

  /** Every dead-lettered delivery, read without moving it (a dry run of the redrive). */
  public async deadLetters(): Promise<DeadLetterFound[]> {
    const found: DeadLetterFound[] = [];
    for (const type of Object.keys(this.pipeline.deadLetterQueueUrls)) {
      const outcome = await redrive({ sqs: this.sqs, type, method: 'copy', dryRun: true });
      found.push(...(outcome.deadLetters ?? []).map((letter) => ({ ...letter, type })));
    }
    return found;
  }

  /** Redrives every destination's dead-letter queue, as `npx upload-destinations redrive <type>` does locally. */
  public async redriveAll(): Promise<number> {
    let moved = 0;
    for (const type of Object.keys(this.pipeline.deadLetterQueueUrls)) {
      moved += (await redrive({ sqs: this.sqs, type, method: 'copy' })).moved ?? 0;
    }
    return moved;
  }

  public close(): void {
    this.sqs.destroy();
  }
}
