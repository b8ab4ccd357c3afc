import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { destinations } from '../../functions/destinations/registry.ts';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** The field names the README's table lists for `type`: backticked names in each row's first cell. */
function documentedFields(type: string): string[] {
  const heading = new RegExp(`^###[^\\n]*\`"type": "${type}"\`[^\\n]*$`, 'm').exec(readme);
  if (!heading) return [];
  const section = readme.slice(heading.index + heading[0].length).split(/^#{2,3} /m)[0] ?? '';
  const rows = section.split('\n').filter((line) => line.startsWith('| `'));
  return rows.flatMap((row) => [...(row.split('|')[1] ?? '').matchAll(/`([a-zA-Z0-9_]+)`/g)].map((match) => match[1]!));
}

describe('README', () => {
  it.each(destinations.map((definition) => [definition.type, definition] as const))(
    'documents every field of the %s destination in its table, and no other',
    (type, definition) => {
      const fields = Object.keys(definition.schema.shape).filter((field) => field !== 'type');

      expect(documentedFields(type).sort()).toEqual(fields.sort());
    },
  );
});
