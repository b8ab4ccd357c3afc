import { describe, expect, it } from 'vitest';
import { azureBlobDestination } from '../../functions/destinations/azureblob/schema.ts';
import { uploadRequestSchema } from '../../functions/destinations/registry.ts';
import { splitSecrets } from '../../shared/contract/field-kinds.ts';
import { parseOrThrow } from '../../shared/contract/validate.ts';
import { ValidationError } from '../../shared/errors.ts';

const key = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
const sasToken = 'sv=2025-01-05&ss=b&srt=o&sp=rcwdt&se=2030-01-01T00:00:00Z&spr=https&sig=c2lnbmF0dXJlLW9mLXRoZS10b2tlbg%3D%3D';
const connectionString = `DefaultEndpointsProtocol=https;AccountName=mystorageaccount;AccountKey=${key};EndpointSuffix=core.windows.net`;

function request(destination: Record<string, unknown>) {
  return {
    source: { url: 'https://renders.example.com/a.mp4' },
    upload: {
      extension: 'mp4',
      destination: { type: 'azureblob', account: 'mystorageaccount', key, container: 'videos', filename: 'renders/welcome.mp4', ...destination },
    },
  };
}

/** The `path: message` pairs a request is rejected with. */
function rejection(input: unknown): Record<string, string> {
  try {
    parseOrThrow(uploadRequestSchema, input);
  } catch (error) {
    if (error instanceof ValidationError) return Object.fromEntries(error.fields.map((field) => [field.path, field.message]));
    throw error;
  }
  throw new Error('the request was accepted');
}

function destinationOf(input: unknown): Record<string, unknown> {
  return parseOrThrow(uploadRequestSchema, input).upload.destination as Record<string, unknown>;
}

describe('the azureblob destination in the upload request', () => {
  it("accepts the seeds' example as written", () => {
    const destination = destinationOf({
      source: { url: 'https://renders.example.com/a.mp4' },
      upload: {
        extension: 'mp4',
        destination: {
          type: 'azureblob',
          account: 'mystorageaccount',
          key: 'your-storage-key',
          container: 'videos',
          filename: 'renders/welcome.mp4',
          contenttype: 'video/mp4',
        },
      },
    });

    expect(destination).toMatchObject({ account: 'mystorageaccount', container: 'videos', filename: 'renders/welcome.mp4', contenttype: 'video/mp4' });
  });

  it('accepts every field beyond the seeds', () => {
    const destination = destinationOf(
      request({
        endpoint: 'https://mystorageaccount.blob.core.chinacloudapi.cn/',
        contentdisposition: 'attachment; filename="welcome.mp4"',
        contentencoding: 'gzip',
        contentlanguage: 'en-GB',
        cachecontrol: 'public, max-age=3600',
        metadata: { render_id: 'r-42', frames: 120, final: true },
        tags: { project: 'welcome', 'team/owner': 'a b+c' },
        tier: 'archive',
      }),
    );

    expect(destination).toMatchObject({ metadata: { render_id: 'r-42', frames: '120', final: 'true' }, tier: 'Archive' });
  });

  it('accepts a SAS token, a connection string (without account) or a stored secret instead of the key', () => {
    expect(() => destinationOf(request({ key: undefined, sas_token: `?${sasToken}` }))).not.toThrow();
    expect(() => destinationOf(request({ key: undefined, account: undefined, connection_string: connectionString }))).not.toThrow();
    expect(() => destinationOf(request({ key: undefined, account: undefined, connection_string: `BlobEndpoint=https://cdn.example.com/;SharedAccessSignature=${sasToken}` }))).not.toThrow();
    expect(() => destinationOf(request({ key: undefined, credentials: 'team/azure' }))).not.toThrow();
  });

  it('accepts the root container ($root) by leaving container out, for names without "/"', () => {
    expect(destinationOf(request({ container: undefined, filename: 'welcome.mp4' })).container).toBeUndefined();
    expect(() => destinationOf(request({ container: '$root', filename: 'welcome.mp4' }))).not.toThrow();
  });

  it.each([
    ['no way to sign in', request({ key: undefined }), { 'upload.destination.key': expect.stringContaining('unless sas_token, connection_string or credentials') }],
    ['a key and a SAS token', request({ sas_token: sasToken }), { 'upload.destination.sas_token': 'cannot be combined with key: give one way to sign in' }],
    ['a key and a connection string', request({ connection_string: connectionString }), { 'upload.destination.connection_string': 'cannot be combined with key: give one way to sign in' }],
    ['no account', request({ account: undefined }), { 'upload.destination.account': 'is required (the storage account name)' }],
    ['an account name with capitals', request({ account: 'MyAccount' }), { 'upload.destination.account': expect.stringContaining('3 to 24 lower-case letters and digits') }],
    ['a key with spaces', request({ key: 'not a key!' }), { 'upload.destination.key': 'must be the storage account access key, without spaces' }],
    ['a SAS URL instead of a token', request({ key: undefined, sas_token: `https://a.blob.core.windows.net/c?${sasToken}` }), { 'upload.destination.sas_token': expect.stringContaining('not a URL') }],
    ['a SAS token without signature', request({ key: undefined, sas_token: 'sv=2025-01-05&sp=w' }), { 'upload.destination.sas_token': expect.stringContaining('sv=… and sig=…') }],
    ['a connection string without key or SAS', request({ key: undefined, connection_string: 'AccountName=a1b2c3' }), { 'upload.destination.connection_string': 'holds neither AccountKey nor SharedAccessSignature' }],
    ['a connection string with unknown parts', request({ key: undefined, connection_string: 'Server=db;Password=x' }), { 'upload.destination.connection_string': expect.stringContaining('is not a storage connection string') }],
    ['the development storage shortcut', request({ key: undefined, connection_string: 'UseDevelopmentStorage=true' }), { 'upload.destination.connection_string': expect.stringContaining('UseDevelopmentStorage is not supported') }],
    ['an account that differs from the connection string', request({ key: undefined, account: 'otheraccount', connection_string: connectionString }), { 'upload.destination.account': "differs from the connection string's AccountName" }],
    ['an endpoint beside a connection string', request({ key: undefined, account: undefined, connection_string: connectionString, endpoint: 'https://a.example.com' }), { 'upload.destination.endpoint': expect.stringContaining('cannot be combined with connection_string') }],
    ['an endpoint with a query', request({ endpoint: `https://a.blob.core.windows.net?${sasToken}` }), { 'upload.destination.endpoint': expect.stringContaining('without a query') }],
    ['an endpoint without scheme', request({ endpoint: 'a.blob.core.windows.net' }), { 'upload.destination.endpoint': 'must be an http:// or https:// URL' }],
    ['a container with capitals', request({ container: 'Videos' }), { 'upload.destination.container': expect.stringContaining('lower-case letters, digits and single hyphens') }],
    ['a container with a double hyphen', request({ container: 'my--videos' }), { 'upload.destination.container': expect.stringContaining('single hyphens') }],
    ['a "/" in a name for the root container', request({ container: undefined }), { 'upload.destination.container': expect.stringContaining('blobs in the root container ($root) cannot contain "/"') }],
    ['a missing filename', request({ filename: undefined }), { 'upload.destination.filename': 'is required' }],
    ['a filename that climbs out', request({ filename: 'a/../b' }), { 'upload.destination.filename': "must not contain '..' or empty segments ('a//b')" }],
    ['a filename with a "." segment', request({ filename: 'a/./b' }), { 'upload.destination.filename': expect.stringContaining("ends in '.'") }],
    ['a metadata name that is no C# identifier', request({ metadata: { 'render-id': 'x' } }), { 'upload.destination.metadata.render-id': expect.stringContaining('C# identifier') }],
    ['metadata names differing in case only', request({ metadata: { Render: 'a', render: 'b' } }), { 'upload.destination.metadata.render': expect.stringContaining('case-insensitive') }],
    ['a non-ASCII metadata value', request({ metadata: { title: 'Grüße' } }), { 'upload.destination.metadata.title': 'must be printable ASCII' }],
    ['oversized metadata', request({ metadata: { a: 'x'.repeat(5000), b: 'y'.repeat(5000) } }), { 'upload.destination.metadata': expect.stringContaining('8 KiB') }],
    ['eleven tags', request({ tags: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`t${i}`, 'v'])) }), { 'upload.destination.tags': 'at most 10 tags' }],
    ['a tag with a character Azure refuses', request({ tags: { 'a&b': 'c' } }), { 'upload.destination.tags.a&b': expect.stringContaining('letters, digits, spaces') }],
    ['an unknown tier', request({ tier: 'Premium' }), { 'upload.destination.tier': 'must be one of Hot, Cool, Cold, Archive' }],
    ['a non-ASCII content disposition', request({ contentdisposition: 'inline; filename="ü.mp4"' }), { 'upload.destination.contentdisposition': expect.stringContaining('printable ASCII') }],
    ['a content type with a line break', request({ contenttype: 'video/mp4\r\nX-Evil: 1' }), { 'upload.destination.contenttype': expect.stringContaining('must be printable ASCII without line breaks') }],
    ['an unknown field', request({ blob: 'x' }), { 'upload.destination.blob': 'is not a known field' }],
  ])('rejects %s, naming the field', (_case, input, expected) => {
    expect(rejection(input)).toEqual(expected);
  });

  it('never echoes a key, SAS token or connection string in an error', () => {
    const messages = [
      Object.values(rejection(request({ key: 'not a key!' }))),
      Object.values(rejection(request({ key: undefined, sas_token: 'sv=1&sp=w&secretpart' }))),
      Object.values(rejection(request({ key: undefined, connection_string: 'AccountName=a1b2c3;AccountKey=' }))),
    ].join(' ');

    expect(messages).not.toContain('not a key!');
    expect(messages).not.toContain('secretpart');
  });

  it('keeps key, SAS token and connection string apart as secrets; the rest travels in clear', () => {
    const destination = destinationOf(request({ key: undefined, sas_token: sasToken }));

    const { open, secrets } = splitSecrets(azureBlobDestination.schema, destination);

    expect(Object.keys(secrets)).toEqual(['sas_token']);
    expect(JSON.stringify(open)).not.toContain('sig=');
  });

  it("names the endpoints it connects to, the connection string's included, so private ones are refused", () => {
    const withEndpoint = destinationOf(request({ endpoint: 'http://10.0.0.7:10000/devstoreaccount1' }));
    const withConnection = destinationOf(request({ key: undefined, account: undefined, connection_string: `AccountName=a1b2c3;AccountKey=${key};BlobEndpoint=http://127.0.0.1:10000/a1b2c3` }));

    expect(azureBlobDestination.endpointsOf(withEndpoint as never)).toEqual([{ field: 'endpoint', address: 'http://10.0.0.7:10000/devstoreaccount1' }]);
    expect(azureBlobDestination.endpointsOf(withConnection as never)).toEqual([{ field: 'connection_string', address: 'http://127.0.0.1:10000/a1b2c3' }]);
  });
});
