import { watch } from 'node:fs';
import { chown, mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isTemporaryName } from '../../../functions/destinations/sftp/paths.ts';
import { sftpDestination, sftpDestinationSchema } from '../../../functions/destinations/sftp/schema.ts';
import { sftpUploader } from '../../../functions/destinations/sftp/upload.ts';
import { attemptUpload } from '../../support/attempts.ts';
import { startSftpServer } from '../../support/servers/sftp.ts';
import { patternBytes, sourceOf } from '../../support/sources.ts';
import { startTcpFaultProxy, type ProxiedConnection } from '../../support/fault-proxy/tcp-fault-proxy.ts';
import { sha256OfFile } from './digest.ts';
import { peakConcurrentUploads, type FaultDestination } from './fault-destination.ts';

const folder = 'faults';

/**
 * What a connection costs on the wire beyond the file: SSH and SFTP framing per byte, and the
 * handshake, login and file calls once. The server cannot be asked how many bytes it was sent
 * (OpenSSH's SFTP server logs to syslog only), and the stream is encrypted, so the proxy counts
 * the bytes each connection carried and this turns them into file bytes.
 */
interface WireCost {
  readonly perConnection: number;
  readonly perByte: number;
}

/** SFTP: OpenSSH's sshd (as root), its connections through the TCP proxy, every rename onto a final name watched. */
export async function startSftpDestination(): Promise<FaultDestination> {
  const server = await startSftpServer();
  const proxy = await startTcpFaultProxy(server.port);
  const directory = join(server.root, folder);
  await mkdir(directory);
  const { uid, gid } = await stat(server.root);
  await chown(directory, uid, gid);
  // Each rename onto a name is one file written there (inotify's IN_MOVED_TO, which fs.watch reports as 'rename').
  const renamesOnto = new Map<string, number>();
  const watcher = watch(directory, (event, name) => {
    if (event === 'rename' && name && !isTemporaryName(name)) renamesOnto.set(name, (renamesOnto.get(name) ?? 0) + 1);
  });
  const destination = (name: string) => ({
    type: 'sftp',
    host: proxy.host,
    port: proxy.port,
    user: server.user,
    password: server.password,
    host_key: server.hostKeyFingerprint,
    filename: `${folder}/${name}`,
  });

  const calibrate = async (size: number): Promise<number> => {
    const before = proxy.connections.length;
    await attemptUpload({ definition: sftpDestination, uploader: sftpUploader }, sftpDestinationSchema.parse(destination(`.calibration-${size}`)), sourceOf(patternBytes(size, 5)));
    return proxy.connections.slice(before).reduce((sum, connection) => sum + connection.bytesUp, 0);
  };
  const calibrationBytes = 16 * 1024 * 1024;
  const empty = await calibrate(0);
  const full = await calibrate(calibrationBytes);
  const cost: WireCost = { perConnection: empty, perByte: (full - empty) / calibrationBytes };
  const fileBytes = (connection: ProxiedConnection): number => Math.max(0, (connection.bytesUp - cost.perConnection) / cost.perByte);

  return {
    type: 'sftp',
    environment: {},
    destination,
    landed: async (name) => ({ writes: renamesOnto.get(name) ?? 0, sha256: await sha256OfFile(join(directory, name)) }),
    leftovers: async () => (await readdir(directory)).filter(isTemporaryName).map((name) => `temporary file ${folder}/${name}`),
    mark: () => proxy.connections.length,
    uploadBytesSince: (mark) => Math.round(proxy.connections.slice(mark).reduce((sum, connection) => sum + fileBytes(connection), 0)),
    // One connection per attempt: connections open at once are uploads at once.
    peakConcurrentUploadsSince: (mark) => peakConcurrentUploads(proxy.connections.slice(mark), (connection) => `connection-${connection.id}`),
    // One connection carries everything: each is an upload.
    faults: { kind: 'tcp', proxy, isUpload: () => true },
    close: async () => {
      watcher.close();
      await proxy.close();
      await server.close();
    },
  };
}
