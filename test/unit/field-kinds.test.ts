import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { destinations } from '../../functions/destinations/registry.ts';
import {
  fieldKindsOf,
  mergeSecrets,
  notSecret,
  secret,
  secretEntries,
  secretFieldNames,
  secretUrl,
  splitSecrets,
  unexpectedSecretFields,
  withFolderPathsCompleted,
} from '../../shared/contract/field-kinds.ts';
import { filePath } from '../../shared/contract/fields.ts';

const looksSecret = /password|secret|token|key|passphrase/i;

const example = z.strictObject({
  type: z.literal('example'),
  filename: filePath(),
  password: secret(z.optional(z.string())).check(z.describe('described after marking')),
  api_key: z.optional(z.string().check(z.describe('marked after describing'))),
  key_id: notSecret(z.optional(z.string()), 'names a key'),
  headers: secretEntries(z.optional(z.record(z.string(), z.string())), (name) => /^authorization$/i.test(name)),
  url: secretUrl(z.optional(z.string())),
});
secret(example.shape.api_key);

describe('Field kinds: secrets marked on the fields themselves', () => {
  it.each(destinations.map((definition) => [definition.type, definition] as const))(
    'marks every %s field named like a secret as secret, or says why it is not one',
    (_type, definition) => {
      const kinds = fieldKindsOf(definition.schema);
      const unmarked = Object.keys(definition.schema.shape).filter((name) => looksSecret.test(name) && !kinds.has(name));

      expect(unmarked).toEqual([]);
    },
  );

  it('keeps a file-path mark through a refinement added after it', () => {
    const refined = z.strictObject({
      type: z.literal('x'),
      filename: z.optional(filePath().check(z.refine((path) => !path.endsWith('.tmp'), 'no temporary names'))),
    });

    expect(fieldKindsOf(refined).get('filename')).toEqual({ kind: 'file-path' });
  });

  it('finds marks through describe and optional, whichever came first', () => {
    expect(secretFieldNames(example).sort()).toEqual(['api_key', 'headers', 'password', 'url']);
    expect(fieldKindsOf(example).get('key_id')).toEqual({ kind: 'not-secret', reason: 'names a key' });
    expect(fieldKindsOf(example).get('filename')).toEqual({ kind: 'file-path' });
  });

  it('splits secrets apart, secret header entries too, and merges them back', () => {
    const destination = {
      type: 'example',
      filename: 'a.mp4',
      password: 'p4ss',
      key_id: 'k',
      headers: { Authorization: 'Bearer t0ken', Accept: 'video/*' },
    };

    const { open, secrets } = splitSecrets(example, destination);

    expect(open).toEqual({ type: 'example', filename: 'a.mp4', key_id: 'k', headers: { Accept: 'video/*' } });
    expect(secrets).toEqual({ password: 'p4ss', headers: { Authorization: 'Bearer t0ken' } });
    expect(mergeSecrets(example, open, {}, secrets)).toEqual(destination);
  });

  it('keeps a URL without its query in the open, the whole URL among the secrets', () => {
    const presigned = 'https://bucket.s3.amazonaws.com/up/a.mp4?X-Amz-Credential=AKIA%2F20261129&X-Amz-Signature=5d6c0f2a9b';
    const destination = { type: 'example', filename: 'a.mp4', url: presigned };

    const { open, secrets } = splitSecrets(example, destination);

    expect(open).toEqual({ type: 'example', filename: 'a.mp4', url: 'https://bucket.s3.amazonaws.com/up/a.mp4?…' });
    expect(secrets).toEqual({ url: presigned });
    expect(mergeSecrets(example, open, {}, secrets)).toEqual(destination);
  });

  it('seals a URL whose path holds a token, keeping it in the open without the token', () => {
    const webhook = 'https://discord.com/api/webhooks/123456789012345678/abcDEF-ghi_JKL0123456789mnoPQR';

    const { open, secrets } = splitSecrets(example, { type: 'example', url: webhook });

    expect(open).toEqual({ type: 'example', url: 'https://discord.com/api/webhooks/123456789012345678/…' });
    expect(secrets).toEqual({ url: webhook });
  });

  it('leaves a URL without a query or a token in the open, as given', () => {
    const destination = { type: 'example', filename: 'a.mp4', url: 'https://uploads.example.com/in/' };

    expect(splitSecrets(example, destination)).toEqual({ open: destination, secrets: {} });
  });

  it('lets a stored secret hold only secret fields and secret entries, never a URL', () => {
    expect(unexpectedSecretFields(example, { password: 'x', headers: { Authorization: 'y' } })).toEqual([]);
    expect(unexpectedSecretFields(example, { filename: 'x', headers: { Accept: 'y' } })).toEqual(['filename', 'headers.Accept']);
    expect(unexpectedSecretFields(example, { url: 'https://elsewhere.example.com/?sig=1' })).toEqual(['url']);
  });
});

describe('Field kinds: file paths', () => {
  it.each(['renders/a.mp4', '/videos/welcome.mp4', 'folder/', '/', 'a..b/c', 'ünïcode/名前.mp4'])('accepts %j', (path) => {
    expect(filePath().safeParse(path).success).toBe(true);
  });

  it.each([
    ['', 'must not be empty'],
    ['../etc/passwd', "must not contain '..' or empty segments ('a//b')"],
    ['a/../../b', "must not contain '..' or empty segments ('a//b')"],
    ['a//b', "must not contain '..' or empty segments ('a//b')"],
    ['a\nb', 'must not contain control characters'],
    ['a\u007fb', 'must not contain control characters'],
    ['bad\ud800.mp4', 'must be valid Unicode (no unpaired surrogates)'],
    ['x'.repeat(1025), 'must be at most 1024 bytes'],
  ])('refuses %j: %s', (path, message) => {
    const result = filePath().safeParse(path);

    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.message)).toEqual([message]);
  });

  it('completes a folder path with the source name, and leaves a file path alone', () => {
    expect(withFolderPathsCompleted(example, { type: 'example', filename: 'renders/' }, 'clip.mp4')).toEqual({ type: 'example', filename: 'renders/clip.mp4' });
    expect(withFolderPathsCompleted(example, { type: 'example', filename: 'renders/a.mp4' }, 'clip.mp4')).toEqual({ type: 'example', filename: 'renders/a.mp4' });
  });
});
