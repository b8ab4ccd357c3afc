import { describe, expect, it } from 'vitest';
import { uploadRequestSchema } from '../../functions/destinations/registry.ts';
import { parseOrThrow } from '../../shared/contract/validate.ts';
import { ValidationError } from '../../shared/errors.ts';

/** One valid destination of each type, with every credential field it has set. */
const destinations: Readonly<Record<string, Record<string, unknown>>> = {
  s3: {
    type: 's3',
    bucket: 'my-videos',
    filename: 'renders/a.mp4',
    aws_access_key_id: 'AKIAIOSFODNN7EXAMPLE',
    aws_secret_access_key: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    sessiontoken: 'FQoGZXIvYXdzE+/=',
  },
  ftp: { type: 'ftp', host: 'ftp.example.com', filename: '/videos/a.mp4', user: 'ftpuser', password: 'pass word' },
  sftp: {
    type: 'sftp',
    host: 'sftp.example.com',
    filename: '/videos/a.mp4',
    user: 'deploy',
    password: 'pass word',
    private_key: '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaA==\n-----END OPENSSH PRIVATE KEY-----\n',
    passphrase: 'pass phrase',
  },
  azureblob: { type: 'azureblob', account: 'mystorageaccount', key: 'your-storage-key', container: 'videos', filename: 'renders/a.mp4' },
  'azureblob (SAS)': { type: 'azureblob', account: 'mystorageaccount', sas_token: 'sv=2025-01-05&sr=c&sig=abc%2Bdef', container: 'videos', filename: 'a.mp4' },
  'azureblob (connection string)': {
    type: 'azureblob',
    connection_string: 'DefaultEndpointsProtocol=https;AccountName=mystorageaccount;AccountKey=a2V5;EndpointSuffix=core.windows.net',
    container: 'videos',
    filename: 'a.mp4',
  },
  dropbox: { type: 'dropbox', filename: 'Videos/a.mp4', oauth_token: 'sl.token-value' },
  youtube: { type: 'youtube', title: 'Welcome', description: 'A video.', oauth_access_token: 'ya29.token-value' },
  facebook: { type: 'facebook', title: 'Welcome', description: 'A video.', oauth_access_token: 'EAABtoken' },
  http: { type: 'http', url: 'https://upload.example.com/in', filename: 'a.mp4', user: 'uploader', password: 'pass word', headers: { 'X-Api-Key': 'key-value' } },
};

/** Each destination's fields that travel in a protocol header, a command line or a URL. */
const credentialFields: readonly [string, string][] = [
  ['s3', 'aws_access_key_id'],
  ['s3', 'aws_secret_access_key'],
  ['s3', 'sessiontoken'],
  ['ftp', 'user'],
  ['ftp', 'password'],
  ['sftp', 'user'],
  ['sftp', 'password'],
  ['sftp', 'passphrase'],
  ['azureblob', 'account'],
  ['azureblob', 'key'],
  ['azureblob (SAS)', 'sas_token'],
  ['azureblob (connection string)', 'connection_string'],
  ['dropbox', 'oauth_token'],
  ['youtube', 'oauth_access_token'],
  ['facebook', 'oauth_access_token'],
  ['http', 'user'],
  ['http', 'password'],
  ['http', 'headers.X-Api-Key'],
];

/** What a caller could put in a credential to end the line it travels on and add one of its own. */
const controls: readonly [string, string][] = [
  ['CR LF', '\r\nX-Injected: 1'],
  ['LF', '\nDELE /important'],
  ['NUL', '\u0000'],
  ['BEL', '\u0007'],
  ['DEL', '\u007f'],
];

function withField(destination: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const [field, entry] = path.split('.') as [string, string?];
  return { ...destination, [field]: entry === undefined ? value : { ...(destination[field] as object), [entry]: value } };
}

/** The errors a request with `destination` is refused with, or undefined when it is taken. */
function refusal(destination: Record<string, unknown>): readonly { path: string; message: string }[] | undefined {
  try {
    parseOrThrow(uploadRequestSchema, { source: { url: 'https://renders.example.com/a.mp4' }, upload: { destination } });
    return undefined;
  } catch (error) {
    if (error instanceof ValidationError) return error.fields;
    throw error;
  }
}

describe('Credentials that travel in protocol headers, commands and URLs', () => {
  it.each(Object.keys(destinations))('takes the %s example as it is', (name) => {
    expect(refusal(destinations[name]!)).toBeUndefined();
  });

  const cases = credentialFields.flatMap(([name, field]) => controls.map(([control, text]) => [name, field, control, text] as const));
  it.each(cases)('%s: refuses %s holding %s, naming it and quoting nothing of it', (name, field, _control, text) => {
    const [held, entry] = field.split('.') as [string, string?];
    const given = destinations[name]![held];
    // Inside a value that is otherwise good, so that nothing but the control character is wrong.
    const value = `${String(entry === undefined ? given : (given as Record<string, unknown>)[entry])}${text}Zq9y`;

    const errors = refusal(withField(destinations[name]!, field, value));

    // A header value is refused by two rules at once (HTTP's Latin-1 and the ASCII every store takes), on the one path.
    expect([...new Set(errors?.map((error) => error.path))]).toEqual([`upload.destination.${field}`]);
    expect(JSON.stringify(errors)).not.toMatch(/Zq9y|Injected|DELE/);
  });

  it.each([
    ['s3', 'aws_access_key_id'],
    ['s3', 'sessiontoken'],
    ['youtube', 'oauth_access_token'],
    ['facebook', 'oauth_access_token'],
  ])('%s: refuses %s past ASCII, which no HTTP header carries', (name, field) => {
    expect(refusal(withField(destinations[name]!, field, 'tokén-value'))?.map((error) => error.path)).toEqual([`upload.destination.${field}`]);
  });

  it.each([
    ['s3', 'sessiontoken'],
    ['youtube', 'oauth_access_token'],
    ['facebook', 'oauth_access_token'],
    ['sftp', 'user'],
    ['azureblob (SAS)', 'sas_token'],
  ])('%s: refuses %s of a megabyte, naming it', (name, field) => {
    const errors = refusal(withField(destinations[name]!, field, 'a'.repeat(1024 * 1024)));

    expect([...new Set(errors?.map((error) => error.path))]).toEqual([`upload.destination.${field}`]);
    expect(errors).toContainEqual({ path: `upload.destination.${field}`, message: expect.stringMatching(/^must be at most \d+ characters$/) });
  });
});
