import { describe, expect, it } from 'vitest';
import { uploadRequestSchema } from '../../functions/destinations/registry.ts';
import { parseOrThrow } from '../../shared/contract/validate.ts';
import { ValidationError } from '../../shared/errors.ts';

/** Each destination of this suite as a request would give it, but for its path field. */
const destinations: Readonly<Record<string, Record<string, unknown>>> = {
  ftp: { type: 'ftp', host: 'ftp.example.com', user: 'u', password: 'p' },
  sftp: { type: 'sftp', host: 'sftp.example.com', user: 'u', password: 'p' },
  http: { type: 'http', url: 'https://dav.example.com/videos/', method: 'PUT' },
  azureblob: { type: 'azureblob', account: 'acme', key: 'a2V5', container: 'videos' },
  dropbox: { type: 'dropbox', oauth_token: 'sl.token' },
};

function request(type: string, filename: string) {
  return { source: { url: 'https://renders.example.com/a.mp4' }, upload: { destination: { ...destinations[type], filename } } };
}

/** The message the request's filename is refused with, or undefined when it is accepted. */
function filenameRefusal(type: string, filename: string): string | undefined {
  try {
    parseOrThrow(uploadRequestSchema, request(type, filename));
    return undefined;
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    const field = error.fields.find((candidate) => candidate.path === 'upload.destination.filename');
    if (!field) throw new Error(`refused, but not for filename: ${error.message}`, { cause: error });
    return field.message;
  }
}

describe('A path at the destination that names no file is refused at the door, naming filename', () => {
  // Only once the whole file was sent: FTP's rename onto the folder failed (and ftp-srv's DELE tried
  // to remove the folder in the way); SFTP's rename failed with a bare "Failure"; HTTP's PUT went to
  // the collection itself (the URL drops the '.').
  it.each(['ftp', 'sftp', 'http'])('%s: a path ending in a . segment', (type) => {
    expect(filenameRefusal(type, 'videos/.')).toMatch(/must name a file/);
  });

  it.each(['ftp', 'sftp', 'http', 'azureblob', 'dropbox'])('%s: a folder path and a path through ./ are accepted (a folder is completed with the source name)', (type) => {
    expect(filenameRefusal(type, 'videos/')).toBeUndefined();
    expect(filenameRefusal(type, type === 'azureblob' || type === 'dropbox' ? 'videos/a.mp4' : './videos/a.mp4')).toBeUndefined();
  });
});

describe('A name longer than a file system takes is refused at the door for FTP and SFTP', () => {
  // Before, FTP (ftp-srv) failed as a transient network error, retried for nothing, and SFTP with "Bad message".
  it.each(['ftp', 'sftp'])('%s: a name of 256 bytes', (type) => {
    expect(filenameRefusal(type, `videos/${'映'.repeat(84)}.mp4`)).toMatch(/255 bytes/);
    expect(filenameRefusal(type, `videos/${'映'.repeat(83)}.mp4`)).toBeUndefined();
  });
});

describe('Azure Blob: a segment ending in a dot is refused (the service drops the dot, so the blob would get another name)', () => {
  it.each(['renders/take.', 'renders./a.mp4', 'renders/./a.mp4', 'renders/...'])('%s', (filename) => {
    expect(filenameRefusal('azureblob', filename)).toMatch(/ends in '\.'/);
  });
});

describe('Azure Blob: a backslash is refused (the service stores it as "/", so the blob would get another name)', () => {
  it.each(['renders\\clip.mp4', 'renders/a\\'])('%s', (filename) => {
    expect(filenameRefusal('azureblob', filename)).toMatch(/backslash/);
  });
});

describe('Dropbox: what Dropbox answers malformed_path to is refused at the door, not after the bytes were sent', () => {
  it.each(['Videos/./a.mp4', 'Videos/.', 'Videos /a.mp4', 'Videos/a.mp4 '])('%s', (filename) => {
    expect(filenameRefusal('dropbox', filename)).toMatch(/Dropbox/);
  });
});
