import { readdir, readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { isTemporaryName } from '../../functions/destinations/sftp/paths.ts';
import { sftpDestination, sftpDestinationSchema, type SftpDestinationFields } from '../../functions/destinations/sftp/schema.ts';
import { sftpUploader } from '../../functions/destinations/sftp/upload.ts';
import { startSftpServer, type TestSftpServer } from '../support/servers/sftp.ts';
import { SftpWriteCounter } from '../support/sftp-writes.ts';
import { describeDestinationConformance } from './destination-conformance.ts';

let server: TestSftpServer;
const writes = new SftpWriteCounter();

beforeAll(async () => {
  server = await startSftpServer();
});

afterAll(async () => {
  await server.close();
});

function fields(filename: string, overrides: Record<string, unknown> = {}): SftpDestinationFields {
  return sftpDestinationSchema.parse({
    type: 'sftp',
    host: server.host,
    port: server.port,
    user: server.user,
    password: server.password,
    host_key: server.hostKeyFingerprint,
    filename,
    ...overrides,
  });
}

/** Every file under `folder`, as paths relative to it. */
async function filesUnder(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => posix.relative(folder, join(entry.parentPath, entry.name)));
}

describeDestinationConformance({
  name: 'sftp (OpenSSH sshd)',
  definition: sftpDestination,
  uploader: sftpUploader,
  destination: (filename) => fields(filename),
  refusedDestination: (filename) => fields(filename, { password: 'not-the-password' }),
  // Port 1 is never listened on here: every connection is refused.
  unreachableDestination: (filename) => fields(filename, { port: 1 }),
  read: async (filename) => {
    try {
      return await readFile(join(server.root, filename));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  },
  leftovers: async () => (await filesUnder(server.root)).filter((path) => isTemporaryName(posix.basename(path))),
  // Relative filenames start in the login folder, the server's root.
  bytesReceived: (filename) =>
    writes.bytesTo((path) => posix.dirname(path) === posix.dirname(filename) && posix.basename(path).startsWith(`.${posix.basename(filename)}.`)),
  // Several write windows' worth, so the resumed upload crosses many of them.
  largeSize: 9 * 1024 * 1024 + 7,
  // Writes in flight when the source broke were answered before the attempt ended: none is sent twice.
  resumeSlackBytes: 0,
});
