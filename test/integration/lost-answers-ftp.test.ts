import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ftpDestination, ftpDestinationSchema } from '../../functions/destinations/ftp/schema.ts';
import type { FtpResumeState } from '../../functions/destinations/ftp/store.ts';
import { createFtpUploader, defaultFtpUploaderSettings } from '../../functions/destinations/ftp/upload.ts';
import { attemptFailure, attemptUpload } from '../support/attempts.ts';
import { startFtpServer, type RenameAnswer, type TestFtpServer } from '../support/servers/ftp.ts';
import { MemoryResume, patternBytes, sha256, sourceOf } from '../support/sources.ts';

const uploader = createFtpUploader({ ...defaultFtpUploaderSettings, timeoutMilliseconds: 2_000, stopGraceMilliseconds: 1_000 });
const module = { definition: ftpDestination, uploader };
/** What the server does with the answer of each next rename, in order; then it answers. */
const renameAnswers: RenameAnswer[] = [];
let server: TestFtpServer;

beforeAll(async () => {
  server = await startFtpServer({ renameAnswer: () => renameAnswers.shift() ?? 'sent' });
});

afterAll(async () => {
  await uploader.shutdown?.();
  await server?.close();
});

function destination(filename: string) {
  return ftpDestinationSchema.parse({ type: 'ftp', host: `${server.host}:${server.port}`, user: server.user, password: server.password, filename });
}

describe('FTP destination, an answer lost after the server did the work', () => {
  it.each<RenameAnswer>(['lost', 'withheld'])('lets the next attempt find the file a rename whose answer was %s put in place, instead of sending it again', async (answer) => {
    // Prepare: the first attempt's rename happens, its answer never reaches the client.
    const bytes = patternBytes(2 * 1024 * 1024 + 13, 91);
    const filename = `/renamed-${answer}/file.bin`;
    const resume = new MemoryResume<FtpResumeState>();
    renameAnswers.push(answer);
    const failure = await attemptFailure(module, destination(filename), sourceOf(bytes), { resume });
    const storedBefore = server.transfers.filter((transfer) => transfer.path === resume.state?.temporaryPath).length;

    // Act: the next attempt, with what the first one saved.
    const delivered = await attemptUpload(module, destination(filename), sourceOf(bytes), { resume });

    // Assess: no byte sent again, the file in place once.
    expect(failure.retryable).toBe(true);
    expect(storedBefore).toBe(1);
    expect(server.transfers.filter((transfer) => transfer.path === resume.state?.temporaryPath)).toHaveLength(1);
    expect(delivered).toMatchObject({ details: { command: 'none', resumed_at: bytes.length } });
    expect(delivered.notes).toContain('an earlier attempt had renamed the file into place before it ended: it was not sent again');
    expect(sha256(await readFile(join(server.root, filename)))).toBe(sha256(bytes));
  });
});
