import { once } from 'node:events';
import { setImmediate } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { writesGathered } from '../../functions/destinations/sftp/gathered-writes.ts';
import { recordedConnection, type RecordedConnection } from '../support/recorded-socket.ts';

let connection: RecordedConnection | undefined;

afterEach(() => {
  connection?.close();
  connection = undefined;
});

describe('writesGathered', () => {
  it('sends the writes made in one tick as one writev, and those of a later tick as another', async () => {
    connection = await recordedConnection();
    const { socket, received, sends } = connection;
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
    connection = await recordedConnection();
    const { socket, received } = connection;
    writesGathered(socket);
    await new Promise<void>((resolve, reject) => socket.write('alone', (error) => (error ? reject(error) : resolve())));
    socket.end('end');
    await once(socket, 'close');
    expect(received().toString()).toBe('aloneend');
  });
});
