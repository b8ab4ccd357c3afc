import { once } from 'node:events';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { batchedWrites } from '../../shared/streams/batched-writes.ts';
import { recordedConnection, type RecordedConnection } from '../support/recorded-socket.ts';

let connection: RecordedConnection | undefined;

afterEach(() => {
  connection?.close();
  connection = undefined;
});

const chunk = (text: string): Buffer => Buffer.from(text);

describe('batchedWrites', () => {
  it('sends the chunks that came while a write was under way as one writev, and ends the destination', async () => {
    connection = await recordedConnection();
    const { socket, received, sends } = connection;
    const batcher = batchedWrites(socket);
    batcher.write(chunk('first'));
    batcher.write(chunk('-second'));
    batcher.write(chunk('-third'));
    batcher.write(chunk('-fourth'));
    batcher.end();
    await once(batcher, 'finish');
    await once(socket, 'close');
    expect(sends).toEqual(['write', 'writev of 3']);
    expect(received().toString()).toBe('first-second-third-fourth');
  });

  it('passes a source through whole, in fewer sends than it has chunks', async () => {
    connection = await recordedConnection();
    const { socket, received, sends } = connection;
    const chunks = Array.from({ length: 64 }, (_, index) => Buffer.alloc(64 * 1024, index));
    await pipeline(Readable.from(chunks), batchedWrites(socket));
    await once(socket, 'close');
    expect(received().equals(Buffer.concat(chunks))).toBe(true);
    expect(sends.length).toBeLessThan(chunks.length);
  });

  it('destroys the destination when the source breaks, so the receiver never takes a short body as whole', async () => {
    connection = await recordedConnection();
    const { socket } = connection;
    const broken = new Error('the source broke');
    const source = new Readable({ read() {} });
    const piped = pipeline(source, batchedWrites(socket));
    source.push(chunk('some bytes'));
    source.destroy(broken);
    await expect(piped).rejects.toBe(broken);
    expect(socket.destroyed).toBe(true);
    expect(socket.writableFinished).toBe(false);
  });

  it('fails when the destination goes before the body is out', async () => {
    connection = await recordedConnection();
    const { socket } = connection;
    const source = new Readable({ read() {} });
    const piped = pipeline(source, batchedWrites(socket));
    source.push(chunk('some bytes'));
    socket.destroy();
    await expect(piped).rejects.toBeInstanceOf(Error);
    expect(source.destroyed).toBe(true);
  });
});
