import { readdir, readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { ftpDestination, ftpDestinationSchema, type FtpDestinationFields } from '../../functions/destinations/ftp/schema.ts';
import { ftpUploader } from '../../functions/destinations/ftp/upload.ts';
import { startFtpServer, type FtpSecurity, type TestFtpServer } from '../support/servers/ftp.ts';
import { describeDestinationConformance } from './destination-conformance.ts';

const servers = new Map<FtpSecurity, TestFtpServer>();

beforeAll(async () => {
  for (const secure of [false, 'explicit', 'implicit'] as const) servers.set(secure, await startFtpServer({ secure }));
});

afterAll(async () => {
  await ftpUploader.shutdown?.();
  for (const server of servers.values()) await server.close();
});

function fields(secure: FtpSecurity, filename: string, overrides: Record<string, unknown> = {}): FtpDestinationFields {
  const server = servers.get(secure)!;
  return ftpDestinationSchema.parse({
    type: 'ftp',
    host: `${server.host}:${server.port}`,
    filename,
    user: server.user,
    password: server.password,
    passive: true,
    secure,
    ...(secure ? { certificate_fingerprint: server.fingerprint256 } : {}),
    ...overrides,
  });
}

async function filesUnder(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

/** Bytes STOR and APPE wrote for `filename`: to the file itself and to its temporary files. */
function bytesReceived(server: TestFtpServer, filename: string): number {
  const path = `/${filename}`;
  const temporary = `${posix.dirname(path)}/.${posix.basename(path)}.`;
  return server.transfers
    .filter((transfer) => transfer.path === path || (transfer.path.startsWith(temporary) && transfer.path.endsWith('.partial')))
    .reduce((sum, transfer) => sum + transfer.bytes, 0);
}

for (const secure of [false, 'explicit', 'implicit'] as const) {
  const server = (): TestFtpServer => servers.get(secure)!;
  describeDestinationConformance({
    name: `ftp (ftp-srv, ${secure ? `${secure} FTPS, pinned certificate` : 'plain FTP'})`,
    definition: ftpDestination,
    uploader: ftpUploader,
    destination: (filename) => fields(secure, filename),
    refusedDestination: (filename) => fields(secure, filename, { password: 'not-the-password' }),
    // Port 1 is never listened on here: every connection is refused.
    unreachableDestination: (filename) => fields(secure, filename, { host: '127.0.0.1:1' }),
    read: async (filename) => {
      try {
        return await readFile(join(server().root, filename));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    },
    leftovers: async () => (await filesUnder(server().root)).filter((file) => file.endsWith('.partial')),
    bytesReceived: (filename) => bytesReceived(server(), filename),
    largeSize: 4 * 1024 * 1024 + 7,
    // The server keeps every byte it received: a continued upload sends exactly the rest.
    resumeSlackBytes: 0,
  });
}
