import { watch } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { RuleBook } from '../../support/fault-proxy/rules.ts';
import { startTcpFaultProxy, type ConnectionHead } from '../../support/fault-proxy/tcp-fault-proxy.ts';
import { startFtpServer } from '../../support/servers/ftp.ts';
import { sha256OfFile } from './digest.ts';
import { deliveryNumber, peakConcurrentUploads, type CommittedFile, type FaultDestination } from './fault-destination.ts';

const folder = 'faults';

/**
 * The proxy's address: another loopback address than the server's. The server offers its data
 * ports at its own address, 127.0.0.1; the FTP destination, as FileZilla does, takes a private
 * address other than the control connection's for a server behind NAT telling its inside address,
 * and connects to the control connection's host instead (EPSV names no host at all), so the data
 * connections come to the proxy too, on the same port numbers.
 */
const proxyHost = '127.0.0.3';

/** The FTP destination's temporary files: `.<name>.<16 hex digits>.partial`, beside the file. */
function isTemporaryName(name: string): boolean {
  return /^\..+\.[0-9a-f]{16}\.partial$/.test(name);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, index) => from + index);
}

/**
 * FTP: ftp-srv (in this process) behind the TCP proxy, its control connection and every passive
 * data port alike; the rename onto a final name can lose its answer (a hook of the server's, since
 * the proxy does not read the stream), and every file made under a final name is seen by inotify.
 */
export async function startFtpDestination(): Promise<FaultDestination> {
  const commitAnswers = new RuleBook<CommittedFile, 'lost' | 'withheld'>();
  // A broken transfer's bytes are kept, as most servers keep them, so that continuing is measured.
  const server = await startFtpServer({ renameAnswer: (to) => commitAnswers.take({ path: to })?.fault ?? 'sent', keepBrokenUploads: true });
  const directory = join(server.root, folder);
  try {
    await mkdir(directory);
    const proxy = await startTcpFaultProxy(server.port, { host: proxyHost, alsoPorts: range(server.passivePorts.from, server.passivePorts.to) });
    // Each file made under a name is one file written there (IN_MOVED_TO or IN_CREATE, which fs.watch reports as 'rename').
    const madeUnder = new Map<string, number>();
    const watcher = watch(directory, (event, name) => {
      if (event === 'rename' && name && !isTemporaryName(name)) madeUnder.set(name, (madeUnder.get(name) ?? 0) + 1);
    });
    const isUpload = (connection: ConnectionHead): boolean => connection.port !== proxy.port;
    const dataConnectionsSince = (mark: number) => proxy.connections.slice(mark).filter(isUpload);
    return {
      type: 'ftp',
      environment: {},
      destination: (name) => ({
        type: 'ftp',
        host: proxy.host,
        port: proxy.port,
        user: server.user,
        password: server.password,
        filename: `${folder}/${name}`,
        // Both ways of asking for a data connection: PASV (with its address) and EPSV (without).
        epsv: deliveryNumber(name) % 2 === 0,
      }),
      landed: async (name) => ({ writes: madeUnder.get(name) ?? 0, sha256: await sha256OfFile(join(directory, name)) }),
      leftovers: async () => (await readdir(directory)).filter(isTemporaryName).map((name) => `temporary file ${folder}/${name}`),
      mark: () => proxy.connections.length,
      // Plain FTP in binary mode: a data connection's bytes are the file's.
      uploadBytesSince: (mark) => dataConnectionsSince(mark).reduce((sum, connection) => sum + connection.bytesUp, 0),
      // One data connection at a time per upload: data connections open at once are uploads at once.
      peakConcurrentUploadsSince: (mark) => peakConcurrentUploads(dataConnectionsSince(mark), (connection) => `data-connection-${connection.id}`),
      faults: { kind: 'tcp', proxy, isUpload, commitAnswers },
      close: async () => {
        watcher.close();
        await proxy.close();
        await server.close();
      },
    };
  } catch (error) {
    await server.close();
    throw error;
  }
}
