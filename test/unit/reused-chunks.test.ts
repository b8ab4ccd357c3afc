import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readParts } from '../../shared/streams/chunks.ts';
import { releaseChunk, reusedChunkBytes, takeChunk } from '../../shared/streams/reused-chunks.ts';

// Chunks are compared by identity throughout: a failed toBe would print two 256 KiB buffers.
describe('reused chunks', () => {
  it('reads into a chunk again once it is given back, and only then', () => {
    const first = takeChunk();
    const second = takeChunk();
    expect(second === first).toBe(false);
    expect(first.length).toBe(reusedChunkBytes);

    releaseChunk(first);

    expect(takeChunk() === first).toBe(true);
  });

  it('ignores a view of a chunk, a buffer from elsewhere, and a chunk given back twice', () => {
    const chunk = takeChunk();
    releaseChunk(chunk.subarray(0, 10));
    releaseChunk(Buffer.alloc(reusedChunkBytes));
    expect(takeChunk() === chunk).toBe(false);

    releaseChunk(chunk);
    releaseChunk(chunk);

    expect(takeChunk() === chunk).toBe(true);
    expect(takeChunk() === chunk).toBe(false);
  });

  it('are given back by readParts once copied into parts', async () => {
    const chunk = takeChunk().fill(7);

    const parts: Buffer[] = [];
    for await (const part of readParts(Readable.from([chunk]), () => reusedChunkBytes / 2)) parts.push(part);

    expect(parts.map((part) => part.length)).toEqual([reusedChunkBytes / 2, reusedChunkBytes / 2]);
    expect(parts.every((part) => part.every((byte) => byte === 7))).toBe(true);
    expect(takeChunk() === chunk).toBe(true);
  });
});
