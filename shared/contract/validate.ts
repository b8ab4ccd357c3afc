import type * as z from 'zod/mini';
import { ValidationError, type FieldError } from '../errors.ts';

/** `upload.destinations[0].bucket` */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((text, part) => {
    if (typeof part === 'number') return `${text}[${part}]`;
    return text ? `${text}.${String(part)}` : String(part);
  }, '');
}

function toFieldErrors(issue: z.core.$ZodIssue, prefix: readonly PropertyKey[]): FieldError[] {
  const path = [...prefix, ...issue.path];
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({ path: formatPath([...path, key]), message: 'is not a known field' }));
  }
  if (issue.code === 'invalid_key') {
    return [{ path: formatPath(path), message: issue.issues[0]?.message ?? issue.message }];
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) {
    return [{ path: formatPath(path), message: 'is required' }];
  }
  // JSON.parse reads a number past the doubles' range (1e400) as Infinity, which is no number to zod.
  if (issue.code === 'invalid_type' && issue.expected === 'number' && typeof issue.input === 'number') {
    return [{ path: formatPath(path), message: 'must be a finite number' }];
  }
  if (issue.code === 'invalid_type') {
    return [{ path: formatPath(path), message: `must be ${issue.expected === 'object' ? 'an object' : `a ${issue.expected}`}` }];
  }
  return [{ path: formatPath(path), message: issue.message }];
}

/**
 * Parses `input` with `schema`; on failure throws a {@link ValidationError} that names every
 * offending field by its path, so one answer tells the caller everything to fix.
 */
export function parseOrThrow<Schema extends z.ZodMiniType>(
  schema: Schema,
  input: unknown,
  prefix: readonly PropertyKey[] = [],
): z.output<Schema> {
  const result = schema.safeParse(input, { reportInput: true });
  if (result.success) return result.data;
  throw new ValidationError(result.error.issues.flatMap((issue) => toFieldErrors(issue, prefix)));
}
