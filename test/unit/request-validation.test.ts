import { describe, expect, it } from 'vitest';
import { destinationTypes, uploadRequestSchema } from '../../functions/destinations/registry.ts';
import { parseOrThrow } from '../../shared/contract/validate.ts';
import { ValidationError } from '../../shared/errors.ts';

const keys = { aws_access_key_id: 'AKIAIOSFODNN7EXAMPLE', aws_secret_access_key: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };

function request(destination: Record<string, unknown>, rest: Record<string, unknown> = {}) {
  return {
    source: { url: 'https://renders.example.com/a.mp4' },
    upload: { extension: 'mp4', destination: { type: 's3', bucket: 'my-videos', filename: 'renders/a.mp4', ...keys, ...destination } },
    ...rest,
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

describe('the upload request contract', () => {
  it("accepts the seeds' S3 example and applies the seeds' defaults", () => {
    const parsed = parseOrThrow(uploadRequestSchema, {
      source: { url: 'https://renders.example.com/a.mp4' },
      upload: {
        extension: 'mp4',
        async: false,
        destination: { type: 's3', ...keys, filename: 'myvideos/my-movie-123.mp4', contenttype: 'video/mp4', bucket: 'mybucket', acl: 'public-read' },
      },
    });

    expect(parsed.upload.async).toBe(false);
    expect(parsed.upload.destination).toMatchObject({ aws_use_policy: false, secure: false, reduced_redundancy: false, acl: 'public-read' });
  });

  it('accepts every S3 field of the seeds', () => {
    const parsed = parseOrThrow(
      uploadRequestSchema,
      request({
        s3host: 's3.eu-central-1.amazonaws.com',
        secure: true,
        contenttype: 'video/mp4',
        contentdisposition: 'inline',
        acl: 'bucket-owner-full-control',
        reduced_redundancy: true,
        cachecontrol: 'max-age=60',
        metadata: { a: 'b', n: 1, t: true },
        region: 'eu-central-1',
        sessiontoken: 'FQoGZXIvYXdzE',
        storageclass: 'REDUCED_REDUNDANCY',
        encryption: 'aws:kms',
        kms_key_id: 'alias/renders',
        tags: { project: 'x' },
        headers: { Expires: 'Wed, 21 Oct 2030 07:28:00 GMT', 'Content-Encoding': 'gzip', 'Content-Language': 'en' },
      }),
    );

    expect(parsed.upload.destination).toMatchObject({ metadata: { a: 'b', n: '1', t: 'true' }, storageclass: 'REDUCED_REDUNDANCY' });
  });

  it('accepts an S3-compatible endpoint, bucket-policy mode and a credentials reference', () => {
    expect(() => parseOrThrow(uploadRequestSchema, request({ endpoint: 'https://abc.r2.cloudflarestorage.com', region: 'auto' }))).not.toThrow();
    expect(() =>
      parseOrThrow(uploadRequestSchema, request({ aws_access_key_id: undefined, aws_secret_access_key: undefined, aws_use_policy: true })),
    ).not.toThrow();
    expect(() =>
      parseOrThrow(uploadRequestSchema, request({ aws_access_key_id: undefined, aws_secret_access_key: undefined, credentials: 'team/s3' })),
    ).not.toThrow();
  });

  it('accepts several destinations', () => {
    const parsed = parseOrThrow(uploadRequestSchema, {
      source: { bucket: 'staging', key: 'a.mp4' },
      upload: { destinations: [request({}).upload.destination, request({ filename: 'b/' }).upload.destination] },
    });

    expect(parsed.upload.destinations).toHaveLength(2);
  });

  it.each([
    ['a missing source', { upload: request({}).upload }, { source: 'is required' }],
    ['an empty source', { ...request({}), source: {} }, { 'source.url': 'is required (or bucket and key, or presigned)' }],
    ['a source with url and bucket', { ...request({}), source: { url: 'https://a.example/x', bucket: 'b', key: 'k' } }, { 'source.url': 'give one of url, bucket and key, or presigned' }],
    ['a presigned file name with a slash', { ...request({}), source: { presigned: { filename: 'a/b.mp4' } } }, { 'source.presigned.filename': expect.stringContaining('without slashes') }],
    ['a bucket source without key', { ...request({}), source: { bucket: 'b' } }, { 'source.key': 'is required with a bucket source' }],
    ['an ftp source', { ...request({}), source: { url: 'ftp://a.example/x' } }, { 'source.url': 'must be an http:// or https:// URL' }],
    ['no destination', { source: { url: 'https://a.example/x' }, upload: {} }, { 'upload.destination': 'give exactly one of destination or destinations' }],
    ['an unknown destination type', request({ type: 'gopher' }), { 'upload.destination.type': `must be one of: ${destinationTypes.join(', ')}` }],
    ['an unknown field', request({ buckt: 'x' }), { 'upload.destination.buckt': 'is not a known field' }],
    ['a bad bucket name', request({ bucket: 'My Bucket' }), { 'upload.destination.bucket': expect.stringContaining('3 to 63 characters') }],
    ['a missing filename', request({ filename: undefined }), { 'upload.destination.filename': 'is required' }],
    ['an empty filename', request({ filename: '' }), { 'upload.destination.filename': 'must not be empty' }],
    ['a filename with a line break', request({ filename: 'a\nb' }), { 'upload.destination.filename': 'must not contain control characters' }],
    ['a source URL with a password', { ...request({}), source: { url: 'https://user:hunter2@renders.example.com/a.mp4' } }, { 'source.url': expect.stringContaining('must not carry a user name or password') }],
    ['a callback URL with a user name', request({}, { callback_url: 'https://hook@example.com/x' }), { callback_url: expect.stringContaining('must not carry a user name or password') }],
    ['a role without its external id', request({ aws_access_key_id: undefined, aws_secret_access_key: undefined, role_arn: 'arn:aws:iam::111122223333:role/r' }), { 'upload.destination.external_id': expect.stringContaining('go together') }],
    ['a role with keys beside it', request({ role_arn: 'arn:aws:iam::111122223333:role/r', external_id: 'x42' }), { 'upload.destination.role_arn': expect.stringContaining('cannot be combined') }],
    ['a role that is not a role ARN', request({ aws_access_key_id: undefined, aws_secret_access_key: undefined, role_arn: 'arn:aws:iam::111122223333:user/me', external_id: 'x42' }), { 'upload.destination.role_arn': expect.stringContaining('must be an IAM role ARN') }],
    ['the service identity against a non-AWS store', request({ aws_access_key_id: undefined, aws_secret_access_key: undefined, aws_use_policy: true, endpoint: 'https://minio.example.com' }), { 'upload.destination.endpoint': expect.stringContaining('signs requests for AWS only') }],
    ['the service identity against a non-AWS s3host', request({ aws_access_key_id: undefined, aws_secret_access_key: undefined, aws_use_policy: true, s3host: 'attacker.example:443' }), { 'upload.destination.s3host': expect.stringContaining('must be an AWS S3 host') }],
    ['a filename that climbs out', request({ filename: 'renders/../../etc/passwd' }), { 'upload.destination.filename': "must not contain '..' or empty segments ('a//b')" }],
    ['a filename with an unpaired surrogate', request({ filename: 'clip\ud800.mp4' }), { 'upload.destination.filename': 'must be valid Unicode (no unpaired surrogates)' }],
    ['a content type beyond ASCII', request({ contenttype: 'video/mp4; name=€' }), { 'upload.destination.contenttype': expect.stringContaining('must be printable ASCII') }],
    ['a content disposition with a line break', request({ contentdisposition: 'attachment\r\nX-Evil: 1' }), { 'upload.destination.contentdisposition': expect.stringContaining('must be printable ASCII') }],
    ['a metadata value beyond ASCII', request({ metadata: { title: 'Grüße' } }), { 'upload.destination.metadata.title': expect.stringContaining('must be printable ASCII') }],
    ['an unknown ACL', request({ acl: 'everyone' }), { 'upload.destination.acl': expect.stringContaining('must be one of private, public-read') }],
    ['an unknown storage class', request({ storageclass: 'cold' }), { 'upload.destination.storageclass': expect.stringContaining('must be one of STANDARD') }],
    ['a non-boolean secure', request({ secure: 'yes' }), { 'upload.destination.secure': 'must be a boolean' }],
    ['a key ID without secret', request({ aws_secret_access_key: undefined }), { 'upload.destination.aws_secret_access_key': expect.stringContaining('required together') }],
    ['no credentials at all', request({ aws_access_key_id: undefined, aws_secret_access_key: undefined }), { 'upload.destination.aws_access_key_id': expect.stringContaining('unless role_arn, aws_use_policy or credentials') }],
    ['keys and bucket-policy mode', request({ aws_use_policy: true }), { 'upload.destination.aws_use_policy': expect.stringContaining('cannot be combined') }],
    ['a session token without keys', request({ aws_access_key_id: undefined, aws_secret_access_key: undefined, sessiontoken: 't', credentials: 'x' }), { 'upload.destination.sessiontoken': expect.stringContaining('needs aws_access_key_id') }],
    ['s3host and endpoint', request({ s3host: 's3.amazonaws.com', endpoint: 'https://minio.example.com' }), { 'upload.destination.endpoint': expect.stringContaining('cannot be combined with s3host') }],
    ['an endpoint without scheme', request({ endpoint: 'minio.example.com' }), { 'upload.destination.endpoint': 'must be an http:// or https:// URL' }],
    ['reduced redundancy with another class', request({ reduced_redundancy: true, storageclass: 'GLACIER' }), { 'upload.destination.storageclass': expect.stringContaining('conflicts with reduced_redundancy') }],
    ['a KMS key without KMS encryption', request({ kms_key_id: 'k' }), { 'upload.destination.kms_key_id': expect.stringContaining('needs encryption') }],
    ['an unknown encryption', request({ encryption: 'rot13' }), { 'upload.destination.encryption': 'must be AES256, aws:kms or aws:kms:dsse' }],
    ['a header S3 does not store', request({ headers: { 'X-Frame-Options': 'deny' } }), { 'upload.destination.headers.X-Frame-Options': expect.stringContaining('is not a header S3 stores') }],
    ['a bad Expires header', request({ headers: { Expires: 'soon' } }), { 'upload.destination.headers.Expires': 'must be an HTTP or ISO 8601 date' }],
    ['a header given twice', request({ cachecontrol: 'no-cache', headers: { 'Cache-Control': 'max-age=1' } }), { 'upload.destination.headers': expect.stringContaining('and so does cachecontrol') }],
    ['a metadata name with a space', request({ metadata: { 'a b': 'c' } }), { 'upload.destination.metadata.a b': expect.stringContaining('valid header name') }],
    ['oversized metadata', request({ metadata: { big: 'x'.repeat(3000) } }), { 'upload.destination.metadata': expect.stringContaining('2 KB') }],
    ['eleven tags', request({ tags: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`t${i}`, 'v'])) }), { 'upload.destination.tags': 'at most 10 tags' }],
    ['a bad extension', { ...request({}), upload: { ...request({}).upload, extension: '.mp4' } }, { 'upload.extension': expect.stringContaining('without the dot') }],
    ['a bad callback URL', request({}, { callback_url: 'mailto:a@b.c' }), { callback_url: 'must be an http:// or https:// URL' }],
    ['an idempotency key with spaces', request({}, { idempotency_key: 'a b' }), { idempotency_key: expect.stringContaining('visible ASCII') }],
    ['eleven destinations', { source: { url: 'https://a.example/x' }, upload: { destinations: Array.from({ length: 11 }, () => request({}).upload.destination) } }, { 'upload.destinations': expect.stringContaining('10') }],
    ['a bad field in the second destination', { source: { url: 'https://a.example/x' }, upload: { destinations: [request({}).upload.destination, { ...request({}).upload.destination, acl: 'x' }] } }, { 'upload.destinations[1].acl': expect.stringContaining('must be one of') }],
  ])('rejects %s, naming the field', (_case, input, expected) => {
    expect(rejection(input)).toEqual(expected);
  });

  describe('facebook', () => {
    const seedExample = { type: 'facebook', title: 'Welcome Video', description: 'A personalized welcome.', oauth_access_token: 'your-facebook-token' };

    function facebook(destination: Record<string, unknown>) {
      return { source: { url: 'https://renders.example.com/a.mp4' }, upload: { extension: 'mp4', destination: { ...seedExample, ...destination } } };
    }

    it("accepts the seeds' example and applies the defaults", () => {
      const parsed = parseOrThrow(uploadRequestSchema, facebook({}));

      expect(parsed.upload.destination).toEqual({ ...seedExample, endpoint: 'https://graph.facebook.com', api_version: 'v24.0' });
    });

    it('accepts every field of the seeds and the extras', () => {
      const parsed = parseOrThrow(
        uploadRequestSchema,
        facebook({ caption: 'c', name: 'Welcome Video', message: 'm', endpoint: 'https://graph.facebook.com/', page_id: '1755847768034402', api_version: 'v21.0' }),
      );

      expect(parsed.upload.destination).toMatchObject({ endpoint: 'https://graph.facebook.com', page_id: '1755847768034402', api_version: 'v21.0' });
    });

    it('accepts stored credentials for Meta, and a loopback test server over plain http', () => {
      expect(() => parseOrThrow(uploadRequestSchema, facebook({ oauth_access_token: undefined, credentials: 'team/facebook' }))).not.toThrow();
      expect(() => parseOrThrow(uploadRequestSchema, facebook({ endpoint: 'http://127.0.0.1:8080' }))).not.toThrow();
      expect(() => parseOrThrow(uploadRequestSchema, facebook({ endpoint: 'https://graph-proxy.example.com/fb' }))).not.toThrow();
    });

    it.each([
      ['no token', { oauth_access_token: undefined }, { 'upload.destination.oauth_access_token': expect.stringContaining('unless credentials') }],
      ['no title', { title: undefined }, { 'upload.destination.title': 'is required' }],
      ['a blank title', { title: '  ' }, { 'upload.destination.title': 'must not be empty' }],
      ['no description', { description: undefined }, { 'upload.destination.description': 'is required' }],
      ['a name other than the title', { name: 'Other' }, { 'upload.destination.name': expect.stringContaining('older name of title') }],
      ['a plain http endpoint', { endpoint: 'http://graph.facebook.com' }, { 'upload.destination.endpoint': expect.stringContaining('must be an https:// URL') }],
      ['an endpoint with a query', { endpoint: 'https://graph.facebook.com/?x=1' }, { 'upload.destination.endpoint': expect.stringContaining('without query') }],
      ['an ftp endpoint', { endpoint: 'ftp://graph.facebook.com' }, { 'upload.destination.endpoint': 'must be an https:// URL' }],
      ['a Page username as page_id', { page_id: 'myrenders' }, { 'upload.destination.page_id': "must be the Page's numeric ID" }],
      ['a bad api_version', { api_version: '21' }, { 'upload.destination.api_version': expect.stringContaining('such as v24.0') }],
      ['an unknown field', { privacy: 'EVERYONE' }, { 'upload.destination.privacy': 'is not a known field' }],
    ])('rejects %s, naming the field', (_case, destination, expected) => {
      expect(rejection(facebook(destination))).toEqual(expected);
    });

    it('never echoes the token in an error', () => {
      const fields = rejection(facebook({ oauth_access_token: 12345678, title: '' }));

      expect(Object.keys(fields)).toContain('upload.destination.oauth_access_token');
      expect(JSON.stringify(fields)).not.toContain('12345678');
    });
  });

  it('names every offending field in one answer', () => {
    const fields = rejection({ source: { url: 'x' }, upload: { async: 1, destination: { type: 's3', acl: 'x', bucket: '' } }, extra: true });

    expect(Object.keys(fields).sort()).toEqual(
      ['extra', 'source.url', 'upload.async', 'upload.destination.acl', 'upload.destination.bucket', 'upload.destination.filename', 'upload.destination.aws_access_key_id'].sort(),
    );
  });

  it("says in English what a field's own rule wants where the schema gives no message of its own", () => {
    const fields = rejection({ source: { presigned: { filename: 'a'.repeat(300) } }, upload: { destination: request({}).upload.destination } });

    expect(fields).toEqual({ 'source.presigned.filename': 'Too big: expected string to have <=255 characters' });
  });

  it('never echoes a secret value in an error', () => {
    const error = (() => {
      try {
        parseOrThrow(uploadRequestSchema, request({ aws_secret_access_key: 12345678, acl: 'x' }));
      } catch (caught) {
        return caught as Error;
      }
    })();

    expect(error?.message).toContain('upload.destination.aws_secret_access_key');
    expect(error?.message).not.toContain('12345678');
  });
});
