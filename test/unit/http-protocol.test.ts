import busboy from 'busboy';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { RedirectError } from '../../functions/destinations/http/errors.ts';
import { multipartForm } from '../../functions/destinations/http/multipart.ts';
import { redact, serverText, serverTextBytes } from '../../functions/destinations/http/redaction.ts';
import { maxRedirects, nextHop } from '../../functions/destinations/http/redirects.ts';
import { patternBytes, sha256 } from '../support/sources.ts';

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The form as busboy reads it. */
async function parse(body: Buffer, contentType: string): Promise<{ fields: [string, string][]; files: { field: string; filename: string; sha256: string }[] }> {
  const fields: [string, string][] = [];
  const files: Promise<{ field: string; filename: string; sha256: string }>[] = [];
  const form = busboy({ headers: { 'content-type': contentType }, defParamCharset: 'utf8', preservePath: true });
  form.on('field', (name, value) => fields.push([name, value]));
  form.on('file', (field, stream, info) => {
    files.push(collect(stream).then((bytes) => ({ field, filename: info.filename ?? '', sha256: sha256(bytes) })));
  });
  await new Promise((resolve, reject) => {
    form.on('close', resolve);
    form.on('error', reject);
    form.end(body);
  });
  return { fields, files: await Promise.all(files) };
}

describe('multipartForm', () => {
  it('announces the exact length of the body it streams, fields first and the file last', async () => {
    const file = patternBytes(100_003);
    const form = multipartForm({ title: 'Été', n: '3' }, { field: 'video', filename: 'dir/a b.mp4', contentType: 'video/mp4', size: file.length });

    const body = await collect(form.body(Readable.from([file.subarray(0, 7), file.subarray(7)])));

    expect(body.length).toBe(form.length);
    expect(await parse(body, form.contentType)).toEqual({
      fields: [
        ['title', 'Été'],
        ['n', '3'],
      ],
      files: [{ field: 'video', filename: 'dir/a b.mp4', sha256: sha256(file) }],
    });
  });

  it('has no length when the file has no size', () => {
    expect(multipartForm({}, { field: 'file', filename: 'a', contentType: 'text/plain', size: undefined }).length).toBeUndefined();
  });

  it('escapes quotes in names so that they cannot end the parameter', async () => {
    const form = multipartForm({ 'a"; filename="evil': 'v' }, { field: 'file', filename: 'x".mp4', contentType: 'video/mp4', size: 1 });

    const parsed = await parse(await collect(form.body(Readable.from([Buffer.from('z')]))), form.contentType);

    expect(parsed.fields).toEqual([['a%22; filename=%22evil', 'v']]);
    expect(parsed.files[0]?.filename).toBe('x%22.mp4');
  });

  it('fails its body when the file fails', async () => {
    const form = multipartForm({}, { field: 'file', filename: 'a', contentType: 'text/plain', size: 10 });
    const broken = new Readable({
      read() {
        this.destroy(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
      },
    });

    await expect(collect(form.body(broken))).rejects.toMatchObject({ code: 'ECONNRESET' });
  });
});

describe('nextHop', () => {
  const from = new URL('https://uploads.example.com/in');
  const redirect = (location: string | undefined, overrides: { bodyStarted?: boolean; status?: number } = {}) => ({
    status: overrides.status ?? 307,
    headers: location === undefined ? {} : { location },
    bodyStarted: overrides.bodyStarted ?? false,
  });

  function problemOf(run: () => unknown): string | undefined {
    try {
      run();
    } catch (error) {
      if (error instanceof RedirectError) return error.problem;
      throw error;
    }
    return undefined;
  }

  it('resolves a relative Location against the address that answered', () => {
    expect(nextHop(from, redirect('/v2/in?x=1'), 0).href).toBe('https://uploads.example.com/v2/in?x=1');
  });

  it('goes to another host over https', () => {
    expect(nextHop(from, redirect('https://other.example.org/in'), maxRedirects - 1).host).toBe('other.example.org');
  });

  it.each([
    ['a body already sent', redirect('/v2', { bodyStarted: true }), 0, 'after-body'],
    ['one redirect too many', redirect('/v2'), maxRedirects, 'too-many'],
    ['no Location', redirect(undefined), 0, 'no-location'],
    ['a non-http address', redirect('file:///etc/passwd'), 0, 'not-http'],
    ['https to plain http', redirect('http://uploads.example.com/in'), 0, 'downgrade'],
  ])('refuses %s', (_case, answer, redirects, problem) => {
    expect(problemOf(() => nextHop(from, answer, redirects))).toBe(problem);
  });
});

describe('serverText', () => {
  it('hides a secret that straddles the cut, before cutting', () => {
    const secret = 'sk-live-0123456789';
    const head = Buffer.from(`${'a'.repeat(serverTextBytes - 5)}${secret} and more`);

    const text = serverText(head, [secret]);

    expect(text).not.toContain('sk-live');
    expect(text.endsWith('…')).toBe(true);
    expect(Buffer.byteLength(text.slice(0, -1))).toBeLessThanOrEqual(serverTextBytes);
  });

  it('makes control characters and runs of white space one space, and never cuts a character in two', () => {
    const head = Buffer.from(`line one\r\n\tline\u0000two ${'é'.repeat(400)}`);

    const text = serverText(head, []);

    expect(text.startsWith('line one line two é')).toBe(true);
    expect(text).not.toContain('\uFFFD');
  });

  it('hides the longer of two secrets whole when one holds the other', () => {
    expect(redact('Bearer abc123 / abc123', ['Bearer abc123', 'abc123'])).toBe('[redacted] / [redacted]');
  });
});
