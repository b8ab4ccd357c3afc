import { describe, expect, it } from 'vitest';
import { uploadRequestSchema } from '../../functions/destinations/registry.ts';
import { parseOrThrow } from '../../shared/contract/validate.ts';
import { ValidationError } from '../../shared/errors.ts';

function request(destination: Record<string, unknown>) {
  return {
    source: { url: 'https://renders.example.com/a.mp4' },
    upload: { extension: 'mp4', destination: { type: 'dropbox', filename: 'Videos/welcome.mp4', auth_secret: 'your-auth-secret', ...destination } },
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

describe('the upload request contract: Dropbox', () => {
  it("accepts the seeds' Dropbox example as written and applies the defaults", () => {
    const parsed = parseOrThrow(uploadRequestSchema, {
      upload: { extension: 'mp4', destination: { type: 'dropbox', filename: 'Videos/welcome.mp4', auth_secret: 'your-auth-secret' } },
      source: { url: 'https://renders.example.com/a.mp4' },
    });

    expect(parsed.upload.destination).toEqual({
      type: 'dropbox',
      filename: 'Videos/welcome.mp4',
      auth_secret: 'your-auth-secret',
      mode: 'add',
      autorename: false,
      shared_link: false,
    });
  });

  it('accepts every Dropbox field', () => {
    const parsed = parseOrThrow(
      uploadRequestSchema,
      request({ auth_secret: undefined, oauth_token: 'sl.u.AFakeToken-123_xyz', filename: '/Renders/', mode: 'overwrite', autorename: true, shared_link: true }),
    );

    expect(parsed.upload.destination).toMatchObject({ oauth_token: 'sl.u.AFakeToken-123_xyz', filename: '/Renders/', mode: 'overwrite', autorename: true, shared_link: true });
  });

  it.each([
    ['neither oauth_token nor auth_secret', { auth_secret: undefined }, 'upload.destination.oauth_token', 'is required unless auth_secret'],
    ['both oauth_token and auth_secret', { oauth_token: 'token' }, 'upload.destination.auth_secret', 'cannot be combined with oauth_token'],
    ['an unknown mode', { mode: 'update' }, 'upload.destination.mode', 'must be one of add, overwrite'],
    ['a filename that climbs out', { filename: '../etc/passwd' }, 'upload.destination.filename', "must not contain '..'"],
    ['an empty filename', { filename: '' }, 'upload.destination.filename', 'must not be empty'],
    ['an oauth_token with a space', { auth_secret: undefined, oauth_token: 'Bearer abc' }, 'upload.destination.oauth_token', 'must be an access token'],
    ['an auth_secret that is not a secret name', { auth_secret: 'a b' }, 'upload.destination.auth_secret', 'must be a secret name'],
    ['a shared_link that is not a boolean', { shared_link: 'yes' }, 'upload.destination.shared_link', 'boolean'],
  ])('refuses %s, naming the field', (_case, fields, path, message) => {
    const errors = rejection(request(fields));

    expect(Object.keys(errors)).toContain(path);
    expect(errors[path]).toContain(message);
  });

  it('refuses a field Dropbox does not take, naming it', () => {
    expect(Object.keys(rejection(request({ bucket: 'videos' })))).toEqual(['upload.destination.bucket']);
  });

  it('never echoes the token in an error', () => {
    const errors = rejection(request({ oauth_token: 'sl.secret-token-value', mode: 'bad' }));

    expect(JSON.stringify(errors)).not.toContain('sl.secret-token-value');
  });
});
