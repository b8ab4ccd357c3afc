import { describe, expect, it } from 'vitest';
import type { Uploader } from '../../shared/delivery/types.ts';
import { PermanentError, TransientError } from '../../shared/errors.ts';
import { localNetwork as network } from '../support/network.ts';
import { failingSource, patternBytes, sha256, sourceOf } from '../support/sources.ts';

/**
 * What one destination gives the shared conformance cases: its uploader, a way to make its
 * destination object against its real local server, and ways to read back what landed.
 */
export interface DestinationHarness<Destination> {
  readonly name: string;
  readonly uploader: Uploader<Destination>;
  /** A destination on the local server for `filename`. */
  destination(filename: string): Destination;
  /** One the server refuses for good (a missing bucket or container, bad credentials). */
  refusedDestination(filename: string): Destination;
  /** One whose server cannot be reached (nothing listens there). */
  unreachableDestination(filename: string): Destination;
  /** The delivered bytes at `filename`, or undefined when nothing is there. */
  read(filename: string): Promise<Buffer | undefined>;
  /** Partial uploads the server still holds (unfinished multipart uploads, staged blocks, …). */
  leftovers(): Promise<readonly string[]>;
  /** A size that takes the destination's chunked or resumable path. */
  readonly largeSize: number;
}

const signal = new AbortController().signal;

/**
 * The cases every destination must pass against its real local server, as rclone's `fstests` do
 * for every backend: delivery intact at small and large sizes, a folder filename, no partial
 * result after a failure, and failures classified as permanent or transient.
 */
export function describeDestinationConformance<Destination>(harness: DestinationHarness<Destination>): void {
  const { uploader } = harness;

  describe(`Destination conformance: ${harness.name}`, () => {
    it('delivers a small file byte for byte, recording its size and CRC-32', async () => {
      const bytes = patternBytes(70_001, 21);

      const result = await uploader.upload({ destination: harness.destination('conformance/small.bin'), source: sourceOf(bytes), signal, network });

      expect(sha256((await harness.read('conformance/small.bin')) ?? Buffer.alloc(0))).toBe(sha256(bytes));
      expect(result).toMatchObject({ bytes: bytes.length, checksum: { algorithm: 'crc32', value: expect.stringMatching(/^[A-Za-z0-9+/]{6}==$/) } });
    });

    it('delivers a large file through its chunked path, intact', async () => {
      const bytes = patternBytes(harness.largeSize, 22);

      const result = await uploader.upload({ destination: harness.destination('conformance/large.bin'), source: sourceOf(bytes), signal, network });

      expect(sha256((await harness.read('conformance/large.bin')) ?? Buffer.alloc(0))).toBe(sha256(bytes));
      expect(result.bytes).toBe(bytes.length);
    });

    it('puts the source file name inside a folder filename', async () => {
      await uploader.upload({ destination: harness.destination('conformance/folder/'), source: sourceOf(patternBytes(10), { name: 'clip.mp4' }), signal, network });

      expect(await harness.read('conformance/folder/clip.mp4')).toHaveLength(10);
    });

    it('fails when the source breaks mid-way, leaving nothing behind', async () => {
      const attempt = uploader.upload({
        destination: harness.destination('conformance/broken.bin'),
        source: failingSource(harness.largeSize * 2, harness.largeSize),
        signal,
        network,
      });

      const error = await attempt.catch((caught: unknown) => uploader.classify(caught));
      expect(error).toBeInstanceOf(TransientError);
      expect(await harness.read('conformance/broken.bin')).toBeUndefined();
      expect(await harness.leftovers()).toEqual([]);
    });

    it('fails permanently when the destination refuses the upload', async () => {
      const error = await uploader
        .upload({ destination: harness.refusedDestination('conformance/refused.bin'), source: sourceOf(patternBytes(10)), signal, network })
        .catch((caught: unknown) => uploader.classify(caught));

      expect(error).toBeInstanceOf(PermanentError);
      expect((error as PermanentError).cause).toBeDefined();
    });

    it('fails transiently when the server cannot be reached', async () => {
      const error = await uploader
        .upload({ destination: harness.unreachableDestination('conformance/unreachable.bin'), source: sourceOf(patternBytes(10)), signal, network })
        .catch((caught: unknown) => uploader.classify(caught));

      expect(error).toBeInstanceOf(TransientError);
    });
  });
}
