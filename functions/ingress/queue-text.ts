import { formatPath } from '../../shared/contract/validate.ts';
import type { FieldError } from '../../shared/errors.ts';

/**
 * The characters SQS refuses in a message that JSON leaves as they are (it escapes control
 * characters and lone surrogates). A request holding one would be recorded, then fail every send
 * of its delivery messages: a 503 at the API, and a message retried until it is dead-lettered at
 * the other doors.
 */
const refusedByQueues = /[\uFFFE\uFFFF]/;

const refused = (path: readonly PropertyKey[]): FieldError => ({ path: formatPath(path), message: 'must not contain U+FFFE or U+FFFF' });

/** Every field of `value` (at `path`) whose text, or a name in it, no queue message may carry. */
export function queueTextErrors(value: unknown, path: readonly PropertyKey[] = []): FieldError[] {
  if (typeof value === 'string') return refusedByQueues.test(value) ? [refused(path)] : [];
  if (Array.isArray(value)) return value.flatMap((item, index) => queueTextErrors(item, [...path, index]));
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([name, item]) => (refusedByQueues.test(name) ? [refused([...path, name])] : queueTextErrors(item, [...path, name])));
}
