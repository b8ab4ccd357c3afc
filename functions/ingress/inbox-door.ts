import type { SQSRecord } from 'aws-lambda';
import { withCorrelationId } from '../../shared/lambda/logger.ts';
import { acceptOrRecordRejection } from './accept.ts';
import type { IngressDependencies } from './dependencies.ts';
import { requestIn } from './request-body.ts';

/** The job of an inbox message is found under this token: `inbox-<SQS MessageId>`. */
export function inboxToken(messageId: string): string {
  return `inbox-${messageId}`;
}

/**
 * The inbox door: a message whose body is the same request as `POST /v1/uploads`. A message that
 * fails validation becomes a rejected job with the reasons and is not retried; one that repeats an
 * earlier request's idempotency key is that job, which its token then answers; only a transient
 * failure (the table or a queue unreachable) is thrown, so the queue retries it and finally
 * dead-letters it. Answers which of the two it was.
 */
export async function handleInboxMessage(record: SQSRecord, dependencies: IngressDependencies): Promise<'accepted' | 'rejected'> {
  const token = inboxToken(record.messageId);
  const log = withCorrelationId(dependencies.log, token);
  const { token: jobToken, errors } = await acceptOrRecordRejection(
    () => requestIn(record.body, 'message body'),
    { origin: 'inbox', token, idempotencyKey: token },
    dependencies,
  );
  // Nobody answers the sender, who was told to poll its message's token: that token must lead to
  // the job that took its request.
  if (jobToken !== token) {
    await dependencies.jobs.alias(token, jobToken).catch((error: unknown) => {
      throw new Error(`could not note that inbox message ${token} is job ${jobToken}`, { cause: error });
    });
  }
  if (errors) log.warn('inbox message rejected', { token, errors });
  else log.info('inbox message accepted', { token, ...(jobToken === token ? {} : { job: jobToken }) });
  return errors ? 'rejected' : 'accepted';
}
