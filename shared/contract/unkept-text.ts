import type { FieldError } from '../errors.ts';
import { formatPath } from './validate.ts';

/** A value of the parsed body, and where it is: its key in the object or array that holds it. */
interface Placed {
  readonly value: unknown;
  readonly key?: string | number;
  readonly holder?: Placed;
}

function pathOf(placed: Placed): (string | number)[] {
  const path: (string | number)[] = [];
  for (let current: Placed | undefined = placed; current?.key !== undefined; current = current.holder) path.push(current.key);
  return path.reverse();
}

/**
 * A field, wherever it is in a parsed request `body`, that holds what JSON carries and no
 * schema sees as it was sent:
 * - a key named `__proto__`: JSON.parse keeps it as a field, but maps (metadata, headers, tags)
 *   drop it without a word, as JavaScript objects must, so an accepted job would lack the entry;
 * - an unpaired surrogate, in a text or a field name: no destination can be sent it, since as
 *   UTF-8 it becomes U+FFFD (a password that fails only at delivery). A field name is reported on
 *   the object holding it, so that no error's path carries one either.
 * Only the first found is named: a path repeats every key above it, so naming each of thousands, deep,
 * would take time and make a refusal many times the body's size (and a rejected job's item too
 * large to write). Walked without recursion, as a body may nest tens of thousands of levels deep.
 */
export function unkeptTextError(body: unknown): FieldError | undefined {
  const pending: Placed[] = [{ value: body }];
  const found = (placed: Placed, message: string): FieldError => ({ path: formatPath(pathOf(placed)), message });
  for (let placed = pending.pop(); placed; placed = pending.pop()) {
    const { value } = placed;
    if (typeof value === 'string' && !value.isWellFormed()) return found(placed, 'must be valid Unicode (no unpaired surrogates)');
    if (typeof value !== 'object' || value === null) continue;
    for (const [key, child] of Object.entries(value)) {
      const held: Placed = { value: child, key: Array.isArray(value) ? Number(key) : key, holder: placed };
      if (!key.isWellFormed()) return found(placed, 'has a field name that is not valid Unicode (an unpaired surrogate)');
      if (key === '__proto__' && !Array.isArray(value)) return found(held, 'is a name no field or entry may have');
      pending.push(held);
    }
  }
  return undefined;
}
