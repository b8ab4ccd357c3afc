import type { FieldError } from '../../shared/errors.ts';

/** The most errors a refusal lists one by one. */
const maxListedErrors = 100;

/**
 * A refusal's errors as every door answers and records them: the first hundred, then one that
 * counts the rest. Thousands of unknown fields fit in a request, each an error of its own; listed
 * whole they would make a rejected job larger than a DynamoDB item may be (400 KB), so the message
 * that sent them would be retried until dead-lettered, leaving no record.
 */
export function listedErrors(errors: readonly FieldError[]): readonly FieldError[] {
  if (errors.length <= maxListedErrors) return errors;
  return [...errors.slice(0, maxListedErrors), { path: '', message: `and ${errors.length - maxListedErrors} more errors` }];
}
