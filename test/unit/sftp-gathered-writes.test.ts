import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { setImmediate } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { writesGathered } from '../../functions/destinations/sftp/gathered-writes.ts';

let server: Server | undefined;
let client: Socket | undefined;

afterEach(async () => {
  client?.destroy();
  server?.close();
  client = server = undefined;
});

/** A loopback connection whose server keeps what it receives, and a record of how the client's socket sent. */
async function connection(): Promise<{ socket: Socket; received: () => Buffer; sends: string[] }> {
  const chunks: Buffer[] = [];
  server = createServer((peer) => peer.on('data', (chunk: Buffer) => chunks.push(chunk)));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const socket = connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port }).setNoDelay(true);
  client = socket;
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
  return { socket, received: () => Buffer.concat(chunks), sends };
}

describe('writesGathered', () => {
  it('sends the writes made in one tick as one writev, and those of a later tick as another', async () => {
    const { socket, received, sends } = await connection();
    writesGathered(socket);
    socket.write(Buffer.from([0, 0, 0, 9]));
    socket.write(Buffer.from('ciphertext'));
    socket.write(Buffer.from('tag'));
    await setImmediate();
    socket.write(Buffer.from('-next'));
    socket.write(Buffer.from('-packet'));
    await setImmediate();
    socket.end();
    await once(socket, 'close');
    expect(sends).toEqual(['writev of 3', 'writev of 2']);
    expect(received()).toEqual(Buffer.concat([Buffer.from([0, 0, 0, 9]), Buffer.from('ciphertexttag-next-packet')]));
  });

  it("calls a write's callback once the tick's writes have left, and sends what ends the socket", async () => {
    const { socket, received } = await connection();
    writesGathered(socket);
    await new Promise<void>((resolve, reject) => socket.write('alone', (error) => (error ? reject(error) : resolve())));
    socket.end('end');
    await once(socket, 'close');
    expect(received().toString()).toBe('aloneend');
  });
});
