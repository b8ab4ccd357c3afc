import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ftpDestination, ftpDestinationSchema } from '../../functions/destinations/ftp/schema.ts';
import { createFtpUploader } from '../../functions/destinations/ftp/upload.ts';
import { sftpDestination, sftpDestinationSchema } from '../../functions/destinations/sftp/schema.ts';
import { sftpUploader } from '../../functions/destinations/sftp/upload.ts';
import { attemptUpload } from '../support/attempts.ts';
import { startFtpServer, type TestFtpServer } from '../support/servers/ftp.ts';
import { startSftpServer, type TestSftpServer } from '../support/servers/sftp.ts';
import { patternBytes, sha256, sourceOf } from '../support/sources.ts';

const bytes = patternBytes(100_000, 7);
let ftp: TestFtpServer;
let sftp: TestSftpServer;
const ftpUploader = createFtpUploader();

beforeAll(async () => {
  [ftp, sftp] = await Promise.all([startFtpServer(), startSftpServer()]);
});

afterAll(async () => {
  await ftpUploader.shutdown?.();
  await Promise.all([ftp.close(), sftp.close()]);
});

// Names a file system takes (at most 255 bytes of UTF-8), of characters wider than one byte: the
// temporary name beside each must stay within the same limit.
describe.each([
  ['CJK (3 bytes each)', `${'映'.repeat(80)}.mp4`],
  ['emoji (4 bytes each)', `${'🎬'.repeat(62)}.mp4`],
  ['accented Latin (2 bytes each)', `${'é'.repeat(125)}.mp4`],
])('A name of %s that fits in 255 bytes', (_kind, name) => {
  it('is delivered to FTP, with nothing left beside it', async () => {
    expect(Buffer.byteLength(name)).toBeLessThanOrEqual(255);
    const destination = ftpDestinationSchema.parse({ type: 'ftp', host: `${ftp.host}:${ftp.port}`, filename: `wide/${name}`, user: ftp.user, password: ftp.password });

    await attemptUpload({ definition: ftpDestination, uploader: ftpUploader }, destination, sourceOf(bytes));

    expect(sha256(await readFile(join(ftp.root, 'wide', name)))).toBe(sha256(bytes));
    expect((await readdir(join(ftp.root, 'wide'))).filter((file) => file.startsWith('.'))).toEqual([]);
  });

  it('is delivered to SFTP, with nothing left beside it', async () => {
    const destination = sftpDestinationSchema.parse({ type: 'sftp', host: sftp.host, port: sftp.port, user: sftp.user, password: sftp.password, filename: `wide/${name}` });

    await attemptUpload({ definition: sftpDestination, uploader: sftpUploader }, destination, sourceOf(bytes));

    expect(sha256(await readFile(join(sftp.root, 'wide', name)))).toBe(sha256(bytes));
    expect((await readdir(join(sftp.root, 'wide'))).filter((file) => file.startsWith('.'))).toEqual([]);
  });
});
