import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { UsageError } from './connection.ts';

/** A destination as a job takes it: its type and its fields. */
export type DestinationObject = Record<string, unknown> & { readonly type: string };

/** A value as typed: JSON when it reads as JSON (`true`, `3`, `{"a":1}`), else the text itself. */
function valueOf(text: string): unknown {
  if (/^(true|false|null|-?\d+(\.\d+)?|[[{].*)$/s.test(text)) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
  return text;
}

/** Splits on commas that are not escaped (`\,` is a comma inside a value). */
function fieldsOf(text: string): string[] {
  const fields: string[] = [];
  let current = '';
  for (let index = 0; index < text.length; index += 1) {
    const character = text[index]!;
    if (character === '\\' && text[index + 1] === ',') {
      current += ',';
      index += 1;
    } else if (character === ',') {
      fields.push(current);
      current = '';
    } else current += character;
  }
  fields.push(current);
  return fields.filter((field) => field !== '');
}

/** Sets `path` (`metadata.render`) in `target` to `value`. */
function setField(target: Record<string, unknown>, path: string, value: unknown, argument: string): void {
  const names = path.split('.');
  let node = target;
  for (const name of names.slice(0, -1)) {
    const next = node[name];
    if (next !== undefined && (typeof next !== 'object' || next === null)) throw new UsageError(`--to ${argument}: '${name}' is both a value and an object`);
    node = (node[name] ??= {}) as Record<string, unknown>;
  }
  node[names.at(-1)!] = value;
}

/**
 * The destinations one `--to` names: a JSON file (one destination object, or an array of them), or
 * `type:key=value,key=value` inline (`s3:bucket=videos,filename=renders/,credentials=team-s3`;
 * `metadata.render=42` nests, `\,` is a comma in a value, JSON values such as `true` or `3` keep
 * their type). Inline secrets on a command line show in the shell's history and to `ps`: name a
 * stored secret (`credentials=…`) or use a file instead.
 */
export async function parseDestinations(argument: string): Promise<DestinationObject[]> {
  const inline = existsSync(argument) ? null : /^([a-z0-9-]+):(.*)$/s.exec(argument);
  if (inline) {
    const [, type, rest] = inline;
    const destination: Record<string, unknown> = { type };
    for (const field of fieldsOf(rest!)) {
      const equals = field.indexOf('=');
      if (equals <= 0) throw new UsageError(`--to ${argument}: '${field}' is not key=value`);
      setField(destination, field.slice(0, equals), valueOf(field.slice(equals + 1)), argument);
    }
    return [destination as DestinationObject];
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(argument, 'utf8'));
  } catch (error) {
    throw new UsageError(`--to ${argument}: not type:key=value, and not a readable JSON file (${(error as Error).message})`);
  }
  const list = Array.isArray(parsed) ? parsed : [parsed];
  if (list.length === 0 || list.some((item) => typeof item !== 'object' || item === null || typeof (item as { type?: unknown }).type !== 'string')) {
    throw new UsageError(`--to ${argument}: the file must hold a destination object with a "type", or an array of them`);
  }
  return list as DestinationObject[];
}
