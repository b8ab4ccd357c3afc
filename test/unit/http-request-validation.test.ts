import { describe, expect, it } from 'vitest';
import { uploadRequestSchema } from '../../functions/destinations/registry.ts';
import { httpDestinationSchema, isSecretHeader } from '../../functions/destinations/http/schema.ts';
import { splitSecrets, unexpectedSecretFields } from '../../shared/contract/field-kinds.ts';
import { parseOrThrow } from '../../shared/contract/validate.ts';
import { ValidationError } from '../../shared/errors.ts';

/** The seeds' HTTP example, as written there. */
const seedExample = {
  type: 'http',
  url: 'https://your-server.com/api/videos',
  filename: 'welcome.mp4',
  method: 'POST',
  headers: { Authorization: 'Bearer your-api-token' },
};

function request(destination: Record<string, unknown>) {
  return { source: { url: 'https://renders.example.com/a.mp4' }, upload: { extension: 'mp4', destination: { ...seedExample, ...destination } } };
}

/** The `path: message` pairs a request is rejected with. */
function refusal(input: unknown): ValidationError {
  try {
    parseOrThrow(uploadRequestSchema, input);
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error('the request was accepted');
}

function rejection(input: unknown): Record<string, string> {
  return Object.fromEntries(refusal(input).fields.map((field) => [field.path, field.message]));
}

describe('the HTTP destination in the upload request contract', () => {
  it("accepts the seeds' example as written and applies the seeds' defaults", () => {
    const parsed = parseOrThrow(uploadRequestSchema, { source: { url: 'https://renders.example.com/a.mp4' }, upload: { extension: 'mp4', destination: seedExample } });

    expect(parsed.upload.destination).toEqual({ ...seedExample, fileid: 'file', fields: {} });
  });

  it('accepts every field of the seeds, and the extras', () => {
    const parsed = parseOrThrow(
      uploadRequestSchema,
      request({
        method: 'put',
        user: 'render-farm',
        password: 'p@ss',
        fileid: 'video',
        headers: { 'X-Request-Source': 'render-42' },
        contenttype: 'video/mp4',
      }),
    );

    expect(parsed.upload.destination).toMatchObject({ method: 'PUT', user: 'render-farm', fileid: 'video', contenttype: 'video/mp4' });
  });

  it('takes numbers and booleans in fields as their text, as a form would', () => {
    const parsed = httpDestinationSchema.parse({ ...seedExample, fields: { n: 3, draft: false, title: 'A' } });

    expect(parsed.fields).toEqual({ n: '3', draft: 'false', title: 'A' });
  });

  it('accepts a credentials reference instead of inline secrets', () => {
    expect(() => parseOrThrow(uploadRequestSchema, request({ headers: {}, credentials: 'team/uploads' }))).not.toThrow();
  });

  it.each([
    ['GET, which carries no file', { method: 'GET' }, { 'upload.destination.method': 'a GET carries no file: use POST (the file as a multipart form) or PUT (the raw bytes)' }],
    ['a lower-case get', { method: 'get' }, { 'upload.destination.method': expect.stringContaining('a GET carries no file') }],
    ['another method', { method: 'PATCH' }, { 'upload.destination.method': 'must be POST or PUT' }],
    ['a missing url', { url: undefined }, { 'upload.destination.url': 'is required' }],
    ['an ftp url', { url: 'ftp://files.example.com/in' }, { 'upload.destination.url': 'must be an http:// or https:// URL' }],
    ['credentials in the url', { url: 'https://me:secret@your-server.com/api' }, { 'upload.destination.url': expect.stringContaining('must not carry a user name or password') }],
    ['a missing filename', { filename: undefined }, { 'upload.destination.filename': 'is required' }],
    ['a filename that climbs out', { filename: '../etc/passwd' }, { 'upload.destination.filename': expect.stringContaining("'..'") }],
    ['a password without user', { headers: {}, password: 'p' }, { 'upload.destination.user': 'is required with password (Basic authentication sends both)' }],
    ['a user with a colon', { headers: {}, user: 'a:b' }, { 'upload.destination.user': 'must not contain ":" (Basic authentication cannot carry it)' }],
    ['Basic credentials and an Authorization header', { user: 'a', password: 'p' }, { 'upload.destination.headers': 'sets Authorization and so do user and password; give one of them' }],
    ['a header the upload sets', { headers: { 'Content-Length': '10' } }, { 'upload.destination.headers.Content-Length': 'is set by the service: the length is computed from the source' }],
    ['a Content-Type header', { headers: { 'content-type': 'video/mp4' } }, { 'upload.destination.headers.content-type': expect.stringContaining('give contenttype instead') }],
    ['a header name with a space', { headers: { 'X Bad': 'v' } }, { 'upload.destination.headers.X Bad': 'must be a valid header name' }],
    ['a header value with a line break', { headers: { 'X-A': 'a\r\nInjected: 1' } }, { 'upload.destination.headers.X-A': expect.stringContaining('must be printable ASCII without line breaks') }],
    ['a header value beyond Latin-1', { headers: { 'X-Price': '5 €' } }, { 'upload.destination.headers.X-Price': 'must be Latin-1 text without control characters (a header carries no other characters)' }],
    ['fields with PUT', { method: 'PUT', fields: { a: 'b' } }, { 'upload.destination.fields': 'need method POST: a PUT sends the raw bytes, with no form to carry them' }],
    ['a field named like the file part', { fields: { file: 'x' } }, { 'upload.destination.fields': "has a field named 'file', the name of the file part (fileid); rename one" }],
    ['a field that is an object', { fields: { a: { b: 1 } } }, { 'upload.destination.fields.a': 'must be a string, a number or a boolean' }],
    ['an empty fileid', { fileid: '' }, { 'upload.destination.fileid': 'must not be empty' }],
    ['a content type that is not one', { contenttype: 'mp4' }, { 'upload.destination.contenttype': 'must be a media type such as video/mp4' }],
    ['an unknown field', { mehtod: 'POST' }, { 'upload.destination.mehtod': 'is not a known field' }],
  ])('rejects %s, naming the field', (_case, destination, expected) => {
    expect(rejection(request(destination))).toEqual(expected);
  });

  it('names a url with credentials in it once', () => {
    const { fields } = refusal(request({ url: 'https://me:secret@your-server.com/api' }));

    expect(fields.filter((field) => field.path === 'upload.destination.url')).toHaveLength(1);
  });

  it('never echoes a secret header value in an error', () => {
    const fields = rejection(request({ headers: { Authorization: 'Bearer sk-live-123\n' } }));

    expect(JSON.stringify(fields)).not.toContain('sk-live-123');
  });
});

describe('HTTP destination secrets', () => {
  it.each(['Authorization', 'proxy-authorization', 'Cookie', 'X-Api-Key', 'Api-Key', 'X-Auth-Token', 'X-Client-Secret', 'X-Hub-Signature'])('seals the %s header', (name) => {
    expect(isSecretHeader(name)).toBe(true);
  });

  it.each(['X-Request-Id', 'Accept', 'X-Keyboard', 'X-Tokenizer'])('leaves the %s header in clear', (name) => {
    expect(isSecretHeader(name)).toBe(false);
  });

  it('splits password, secret headers and secret form fields from what travels in clear', () => {
    const destination = httpDestinationSchema.parse({
      ...seedExample,
      headers: { Authorization: 'Bearer t', 'X-Trace': '1' },
      fields: { title: 'Welcome', 'x-amz-signature': 'abc', policy: 'p' },
    });

    const { open, secrets } = splitSecrets(httpDestinationSchema, destination);

    expect(secrets).toEqual({ headers: { Authorization: 'Bearer t' }, fields: { 'x-amz-signature': 'abc' } });
    expect(open).toMatchObject({ headers: { 'X-Trace': '1' }, fields: { title: 'Welcome', policy: 'p' } });
  });

  it('lets a stored secret hold user and password, secret headers and fields, and nothing else', () => {
    expect(unexpectedSecretFields(httpDestinationSchema, { user: 'u', password: 'p', headers: { Authorization: 'Bearer t' }, fields: { api_token: 't' } })).toEqual([]);
    expect(unexpectedSecretFields(httpDestinationSchema, { url: 'https://a.example/', headers: { 'X-Trace': '1' } })).toEqual(['url', 'headers.X-Trace']);
  });
});
