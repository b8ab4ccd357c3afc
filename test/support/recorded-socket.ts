import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/** A loopback connection whose server keeps what it receives, and a record of how the client's socket sent it. */
export interface RecordedConnection {
  readonly socket: Socket;
  /** Everything the server has received so far. */
  received(): Buffer;
  /** Each send of the client's socket, in order: `write`, or `writev of N` buffers. */
  readonly sends: string[];
  close(): void;
}

/** Connects to a server of its own on loopback, with Nagle's algorithm off as the guarded sockets have it. */
export async function recordedConnection(): Promise<RecordedConnection> {
  const chunks: Buffer[] = [];
  const server: Server = createServer((peer) => peer.on('data', (chunk: Buffer) => chunks.push(chunk)));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const socket = connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port }).setNoDelay(true);
  await once(socket, 'connect');
  const sends: string[] = [];
  const internals = socket as unknown as { _write: (...args: unknown[]) => void; _writev: (chunks: unknown[], ...rest: unknown[]) => void };
  const [single, gathered] = [internals._write.bind(socket), internals._writev.bind(socket)];
  internals._write = (...args) => {
    sends.push('write');
    single(...args);
  };
  internals._writev = (pieces, ...rest) => {
    sends.push(`writev of ${pieces.length}`);
    gathered(pieces, ...rest);
  };
  return {
    socket,
    received: () => Buffer.concat(chunks),
    sends,
    close: () => {
      socket.destroy();
      server.close();
    },
  };
}
