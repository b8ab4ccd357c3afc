import { describe, expect, it } from 'vitest';
import { uploadRequestSchema } from '../../functions/destinations/registry.ts';
import { parseOrThrow } from '../../shared/contract/validate.ts';
import { ValidationError } from '../../shared/errors.ts';

/** The seeds' YouTube example, as written there. */
const seedExample = {
  type: 'youtube',
  title: 'Welcome, Alex!',
  description: 'A personalized welcome video.',
  category: '22',
  status: 'unlisted',
  tags: ['personalized', 'welcome'],
  oauth_access_token: 'ya29.your-oauth-token',
};

function request(destination: Record<string, unknown>) {
  return { source: { url: 'https://renders.example.com/a.mp4' }, upload: { extension: 'mp4', destination } };
}

function parsed(destination: Record<string, unknown>) {
  return parseOrThrow(uploadRequestSchema, request(destination)).upload.destination as Record<string, unknown>;
}

/** The `path: message` pairs a request is rejected with. */
function rejection(destination: Record<string, unknown>): Record<string, string> {
  try {
    parseOrThrow(uploadRequestSchema, request(destination));
  } catch (error) {
    if (error instanceof ValidationError) return Object.fromEntries(error.fields.map((field) => [field.path, field.message]));
    throw error;
  }
  throw new Error('the request was accepted');
}

describe('the YouTube destination contract', () => {
  it("accepts the seeds' example as written and applies the seeds' defaults", () => {
    expect(parsed(seedExample)).toEqual({ ...seedExample, notifySubscribers: true, mimetype: 'video/mp4' });
  });

  it('accepts every field of the seeds, and auth_secret instead of a token', () => {
    const destination = parsed({ ...seedExample, oauth_access_token: undefined, auth_secret: 'studio-channel', playlistid: 'PLx8Yz_-1', notifySubscribers: false, mimetype: 'video/quicktime', status: 'private', category: 27 });

    expect(destination).toMatchObject({ auth_secret: 'studio-channel', playlistid: 'PLx8Yz_-1', notifySubscribers: false, mimetype: 'video/quicktime', category: '27' });
  });

  it('defaults status to public and category to 22', () => {
    expect(parsed({ type: 'youtube', title: 't', description: '', oauth_access_token: 'ya29.x' })).toMatchObject({ status: 'public', category: '22' });
  });

  it('accepts a title of exactly 100 characters (counted as characters, not bytes) and a description of exactly 5,000 bytes', () => {
    expect(() => parsed({ ...seedExample, title: 'é'.repeat(100), description: 'é'.repeat(2500) })).not.toThrow();
  });

  it('fails when the title is over 100 characters, empty, or has < or >', () => {
    expect(rejection({ ...seedExample, title: 'a'.repeat(101) })).toEqual({ 'upload.destination.title': 'must be at most 100 characters' });
    expect(rejection({ ...seedExample, title: '  ' })).toEqual({ 'upload.destination.title': 'must not be empty' });
    expect(rejection({ ...seedExample, title: 'Hi <b>Alex</b>' })).toEqual({ 'upload.destination.title': 'must not contain < or >' });
  });

  it('fails when the description is over 5,000 bytes or has < or >', () => {
    expect(rejection({ ...seedExample, description: 'é'.repeat(2501) })).toEqual({ 'upload.destination.description': 'must be at most 5000 bytes (UTF-8)' });
    expect(rejection({ ...seedExample, description: 'a > b' })).toEqual({ 'upload.destination.description': 'must not contain < or >' });
  });

  it('fails when a required field is missing, naming each', () => {
    expect(Object.keys(rejection({ type: 'youtube', oauth_access_token: 'ya29.x' })).sort()).toEqual(['upload.destination.description', 'upload.destination.title']);
  });

  it('fails when neither oauth_access_token nor auth_secret is given, or both are', () => {
    expect(rejection({ ...seedExample, oauth_access_token: undefined })).toEqual({
      'upload.destination.oauth_access_token': "is required unless auth_secret names a stored refresh token (the operator's own channel)",
    });
    expect(rejection({ ...seedExample, auth_secret: 'studio' })).toEqual({ 'upload.destination.auth_secret': 'cannot be combined with oauth_access_token: give one of them' });
  });

  it.each([
    ['category', '99', /must be a YouTube category ID/],
    ['status', 'hidden', /must be one of public, private, unlisted/],
    ['tags', ['ok', '<script>'], /must not contain < or >/],
    ['tags', Array.from({ length: 60 }, (_, index) => `tag number ${index}`), /at most 500 characters/],
    ['playlistid', 'My Favourite Videos', /playlist ID/],
    ['mimetype', 'text/plain', /video MIME type/],
    ['notifySubscribers', 'yes', /boolean/],
  ])('fails when %s is %j', (field, value, message) => {
    const errors = rejection({ ...seedExample, [field]: value });

    expect(Object.keys(errors).every((path) => path.startsWith(`upload.destination.${field}`))).toBe(true);
    expect(Object.values(errors).join(' ')).toMatch(message);
  });

  it('fails when auth_secret is not a secret name', () => {
    expect(rejection({ ...seedExample, oauth_access_token: undefined, auth_secret: 'my channel' })).toEqual({
      'upload.destination.auth_secret': 'must be a stored secret name: letters, digits and /_+=.@-',
    });
  });

  it('refuses fields YouTube does not have, such as an endpoint to send the video elsewhere', () => {
    expect(Object.keys(rejection({ ...seedExample, filename: 'a.mp4', endpoint: 'http://127.0.0.1:9' })).sort()).toEqual([
      'upload.destination.endpoint',
      'upload.destination.filename',
    ]);
  });
});
