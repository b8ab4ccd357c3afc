import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { destinations } from '../../functions/destinations/registry.ts';
import { signCallback } from '../../shared/delivery/callback.ts';

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

describe('README: the callback check it shows', () => {
  /** The `verify` function of the README's Callbacks section, as a reader would paste it. */
  async function readmeVerify(): Promise<(body: string, headers: Record<string, string>, url: string, key: string) => boolean> {
    const section = readme.slice(readme.indexOf('### Callbacks'));
    const code = /```js\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
    const module = `data:text/javascript,${encodeURIComponent(`${code}\nexport { verify };`)}`;
    return ((await import(module)) as { verify: (body: string, headers: Record<string, string>, url: string, key: string) => boolean }).verify;
  }

  it('accepts a callback signed for its URL, and refuses a replay to another URL or a forged signature without throwing', async () => {
    const verify = await readmeVerify();
    const body = '{"token":"ud_x","state":"succeeded"}';
    const eventId = '4b7e1f4e-1111-4a4a-8a8a-123456789abc';
    const headers = (url: string) => ({
      'upload-destinations-event': eventId,
      'upload-destinations-signature': signCallback(body, 'k3y', new Date(), { url, eventId }),
    });

    expect(verify(body, headers('https://a.example/hook'), 'https://a.example/hook', 'k3y')).toBe(true);
    expect(verify(body, headers('https://a.example/hook'), 'https://b.example/hook', 'k3y')).toBe(false);
    expect(verify(body, { ...headers('https://a.example/hook'), 'upload-destinations-signature': 't=1,v1=ab' }, 'https://a.example/hook', 'k3y')).toBe(false);
    // As many characters as a signature, more bytes: Node reads a header's bytes as Latin-1.
    const fresh = Math.floor(Date.now() / 1000);
    const wide = { ...headers('https://a.example/hook'), 'upload-destinations-signature': `t=${fresh},v1=${'\u00e9'.repeat(64)}` };
    expect(verify(body, wide, 'https://a.example/hook', 'k3y')).toBe(false);
  });
});
