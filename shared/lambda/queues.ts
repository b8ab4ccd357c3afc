import type { AwsJsonClient } from '../net/aws-json-client.ts';

/**
 * `message` as JSON with every character past ASCII written as its `\u` escape. SQS refuses some
 * characters JSON leaves as they are (U+FFFE, U+FFFF), and local stand-ins refuse more (fauxqs
 * takes the two halves of an emoji for lone surrogates); an escaped message reads back the same
 * with `JSON.parse`, and a file named `🎬 final.mp4` travels on any queue.
 */
export function queueMessageBody(message: unknown): string {
  return JSON.stringify(message).replace(/[\u007f-\uffff]/g, (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The SQS calls the functions make of the service's own queues, over {@link AwsJsonClient}. */
export class Queues {
  /** `arn:aws:sqs:region:account:name` → the queue's URL, asked once per queue. */
  readonly #urls = new Map<string, Promise<string>>();

  public constructor(private readonly sqs: AwsJsonClient) {}

  public async send(queueUrl: string, message: unknown, delaySeconds?: number): Promise<void> {
    await this.sqs.call('SendMessage', { QueueUrl: queueUrl, MessageBody: queueMessageBody(message), ...(delaySeconds === undefined ? {} : { DelaySeconds: delaySeconds }) });
  }

  /** Hides a received message for `seconds` more (from now). */
  public async hide(queueUrl: string, receiptHandle: string, seconds: number): Promise<void> {
    await this.sqs.call('ChangeMessageVisibility', { QueueUrl: queueUrl, ReceiptHandle: receiptHandle, VisibilityTimeout: seconds });
  }

  /** The URL of the queue an event source names by its ARN. */
  public urlOf(arn: string): Promise<string> {
    let url = this.#urls.get(arn);
    if (!url) {
      const [, , , , account, name] = arn.split(':');
      url = this.sqs.call<{ QueueUrl?: string }>('GetQueueUrl', { QueueName: name, QueueOwnerAWSAccountId: account }).then((answer) => answer.QueueUrl ?? '');
      url.catch(() => this.#urls.delete(arn));
      this.#urls.set(arn, url);
    }
    return url;
  }
}
