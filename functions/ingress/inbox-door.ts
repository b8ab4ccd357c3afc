import type { SQSRecord } from 'aws-lambda';
import { ValidationError, type FieldError } from '../../shared/errors.ts';
import { accept, IdempotencyConflictError, recordRejected } from './accept.ts';
import type { IngressDependencies } from './dependencies.ts';

/** The job of an inbox message is found under this token: `inbox-<SQS MessageId>`. */
export function inboxToken(messageId: string): string {
  return `inbox-${messageId}`;
}

/**
 * The inbox door: a message whose body is the same request as `POST /v1/uploads`. A message that
 * fails validation becomes a rejected job with the reasons and is not retried; only a transient
 * failure (the table or a queue unreachable) is thrown, so the queue retries it and finally
 * dead-letters it.
 */
export async function handleInboxMessage(record: SQSRecord, dependencies: IngressDependencies): Promise<void> {
  const token = inboxToken(record.messageId);
  let errors: FieldError[];
  try {
    await accept(JSON.parse(record.body), { origin: 'inbox', token, idempotencyKey: token }, dependencies);
    dependencies.log.info('inbox message accepted', { token });
    return;
  } catch (error) {
    if (error instanceof SyntaxError) errors = [{ path: '', message: 'the message body is not valid JSON' }];
    else if (error instanceof ValidationError) errors = [...error.fields];
    else if (error instanceof IdempotencyConflictError) errors = [{ path: 'idempotency_key', message: error.message }];
    else throw error;
  }
  await recordRejected(token, 'inbox', errors, dependencies.jobs);
  dependencies.log.warn('inbox message rejected', { token, errors });
}
