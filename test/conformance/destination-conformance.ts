import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type * as z from 'zod/mini';
import { fieldKindsOf, secretFieldNames, splitSecrets } from '../../shared/contract/field-kinds.ts';
import { crc32Base64 } from '../../shared/delivery/checksum.ts';
import type { DestinationModule } from '../../shared/delivery/runner.ts';
import { PermanentError, TransientError } from '../../shared/errors.ts';
import { attemptFailure, attemptUpload } from '../support/attempts.ts';
import { localNetwork } from '../support/network.ts';
import { MemoryResume, patternBytes, sha256, sourceOf } from '../support/sources.ts';

/**
 * What one destination gives the shared conformance cases: its definition and uploader, a way to
 * make its destination object against its real local server, and ways to read back what landed.
 */
export interface DestinationHarness<Schema extends z.ZodMiniObject, State> extends DestinationModule<Schema, State> {
  readonly name: string;
  /** A destination on the local server for `filename`, with its secrets inline. */
  destination(filename: string): z.output<Schema>;
  /** One the server refuses for good (a missing bucket or container, bad credentials). */
  refusedDestination(filename: string): z.output<Schema>;
  /** One whose server cannot be reached (nothing listens there). */
  unreachableDestination(filename: string): z.output<Schema>;
  /** The delivered bytes at `filename`, or undefined when nothing is there. */
  read(filename: string): Promise<Buffer | undefined>;
  /** Partial uploads the server still holds (unfinished multipart uploads, staged blocks, temporary files…). */
  leftovers(): Promise<readonly string[]>;
  /** Upload body bytes the server has received for `filename` so far (resumable destinations). */
  bytesReceived?(filename: string): number;
  /** A size that takes the destination's chunked or resumable path. */
  readonly largeSize: number;
  /** Bytes a resumed upload may send again: what was in flight when the first attempt broke. */
  readonly resumeSlackBytes?: number;
  /**
   * False when `largeSize` takes a path a next attempt sends whole again (S3's streamed PutObject),
   * though the destination resumes on another (S3's parts). @default true for a resumable destination
   */
  readonly largeSizeResumes?: boolean;
  /**
   * Why the destination refuses empty files (a video platform takes no empty video), when it does:
   * the empty-file case then checks that one is refused for good, leaving nothing.
   */
  readonly refusesEmptyFiles?: string;
}

function crcOf(bytes: Buffer): string {
  return crc32Base64(crc32(bytes));
}

/**
 * The cases every destination must pass against its real local server, as rclone's `fstests` do
 * for every backend: delivery intact at small and large sizes, a folder filename, nothing partial
 * left after a failure or an abort, failures classified, secrets marked and sealed, and the cases
 * its capabilities call for (resume, probe); the cases it does not qualify for are skipped by name.
 */
export function describeDestinationConformance<Schema extends z.ZodMiniObject, State>(harness: DestinationHarness<Schema, State>): void {
  const { definition, uploader } = harness;
  const capabilities = definition.capabilities ?? {};
  const resumable = capabilities.resumable !== undefined;
  const largeSizeResumes = resumable && harness.largeSizeResumes !== false;
  // Only a destination with a path field (a key, a blob name) has a folder to complete.
  const takesFolderPaths = [...fieldKindsOf(definition.schema).values()].some((kind) => kind.kind === 'file-path');

  describe(`Destination conformance: ${harness.name}`, () => {
    it('implements exactly the optional methods its capabilities declare', () => {
      expect(typeof uploader.discard === 'function').toBe(resumable);
      expect(typeof uploader.probe === 'function').toBe(capabilities.probe !== undefined);
      expect(typeof uploader.shutdown === 'function').toBe(capabilities.pooledConnections === true);
    });

    it('delivers a small file byte for byte, recording its size and CRC-32', async () => {
      const bytes = patternBytes(70_001, 21);

      const delivered = await attemptUpload(harness, harness.destination('conformance/small.bin'), sourceOf(bytes));

      expect(sha256((await harness.read('conformance/small.bin')) ?? Buffer.alloc(0))).toBe(sha256(bytes));
      expect(delivered).toMatchObject({ bytes: bytes.length, checksum: { algorithm: 'crc32', value: crcOf(bytes) } });
      expect(await harness.leftovers()).toEqual([]);
    });

    it('delivers a large file through its chunked path, intact, leaving nothing temporary', async () => {
      const bytes = patternBytes(harness.largeSize, 22);

      const delivered = await attemptUpload(harness, harness.destination('conformance/large.bin'), sourceOf(bytes));

      expect(sha256((await harness.read('conformance/large.bin')) ?? Buffer.alloc(0))).toBe(sha256(bytes));
      expect(delivered).toMatchObject({ bytes: bytes.length, checksum: { value: crcOf(bytes) } });
      expect(await harness.leftovers()).toEqual([]);
    });

    it.runIf(harness.refusesEmptyFiles === undefined)('delivers an empty file', async () => {
      await attemptUpload(harness, harness.destination('conformance/empty.bin'), sourceOf(Buffer.alloc(0)));

      expect(await harness.read('conformance/empty.bin')).toEqual(Buffer.alloc(0));
    });

    it.runIf(harness.refusesEmptyFiles !== undefined)('refuses an empty file for good, leaving nothing', async () => {
      const error = await attemptFailure(harness, harness.destination('conformance/empty.bin'), sourceOf(Buffer.alloc(0)));

      expect(error).toBeInstanceOf(PermanentError);
      expect(await harness.read('conformance/empty.bin')).toBeUndefined();
      expect(await harness.leftovers()).toEqual([]);
    });

    it.runIf(takesFolderPaths)('puts the source file name inside a folder filename', async () => {
      await attemptUpload(harness, harness.destination('conformance/folder/'), sourceOf(patternBytes(10), { name: 'clip.mp4' }));

      expect(await harness.read('conformance/folder/clip.mp4')).toHaveLength(10);
    });

    it('fails transiently when the source breaks mid-way, leaving nothing under the final name, and nothing at all once discarded', async () => {
      const resume = new MemoryResume<State>();

      const error = await attemptFailure(harness, harness.destination('conformance/broken.bin'), sourceOf(patternBytes(harness.largeSize * 2), { failsAt: harness.largeSize }), {
        resume,
      });

      expect(error).toBeInstanceOf(TransientError);
      expect(await harness.read('conformance/broken.bin')).toBeUndefined();
      if (resume.state !== undefined) await uploader.discard?.({ destination: harness.destination('conformance/broken.bin'), state: resume.state, signal: new AbortController().signal, network: localNetwork });
      expect(await harness.leftovers()).toEqual([]);
    });

    it('stops when its signal aborts, keeping what a next attempt needs, and leaves nothing once discarded', async () => {
      const controller = new AbortController();
      const resume = new MemoryResume<State>();
      const source = sourceOf(patternBytes(harness.largeSize * 2, 23));
      const watcher = setInterval(() => {
        if (source.position > harness.largeSize / 2) controller.abort();
      }, 5);

      const error = await attemptFailure(harness, harness.destination('conformance/aborted.bin'), source, { resume, signal: controller.signal }).finally(() =>
        clearInterval(watcher),
      );

      expect(error).toBeInstanceOf(TransientError);
      expect(await harness.read('conformance/aborted.bin')).toBeUndefined();
      if (largeSizeResumes) expect(resume.state).toBeDefined();
      if (resume.state !== undefined) await uploader.discard?.({ destination: harness.destination('conformance/aborted.bin'), state: resume.state, signal: new AbortController().signal, network: localNetwork });
      expect(await harness.leftovers()).toEqual([]);
    });

    it.runIf(largeSizeResumes && harness.bytesReceived !== undefined)(
      'resumes after the upload broke at 70 %: the next attempt sends only what the server lacks',
      async () => {
        const bytes = patternBytes(harness.largeSize * 2, 24);
        const filename = 'conformance/resumed.bin';
        const resume = new MemoryResume<State>();
        const before = harness.bytesReceived!(filename);

        const first = await attemptFailure(harness, harness.destination(filename), sourceOf(bytes, { failsAt: Math.floor(bytes.length * 0.7) }), { resume });
        const delivered = await attemptUpload(harness, harness.destination(filename), sourceOf(bytes), { resume });

        expect(first).toBeInstanceOf(TransientError);
        expect(sha256((await harness.read(filename)) ?? Buffer.alloc(0))).toBe(sha256(bytes));
        expect(delivered.checksum.value).toBe(crcOf(bytes));
        const received = harness.bytesReceived!(filename) - before;
        expect(received).toBeGreaterThanOrEqual(bytes.length);
        expect(received).toBeLessThanOrEqual(bytes.length + (harness.resumeSlackBytes ?? 0));
        expect(await harness.leftovers()).toEqual([]);
      },
    );

    it('fails permanently when the destination refuses the upload', async () => {
      const error = await attemptFailure(harness, harness.refusedDestination('conformance/refused.bin'), sourceOf(patternBytes(10)));

      expect(error).toBeInstanceOf(PermanentError);
      expect(error.cause).toBeDefined();
    });

    it('fails transiently when the server cannot be reached', async () => {
      const error = await attemptFailure(harness, harness.unreachableDestination('conformance/unreachable.bin'), sourceOf(patternBytes(10)));

      expect(error).toBeInstanceOf(TransientError);
    });

    it('marks its secret fields in the schema, so none of them travels or rests in clear', () => {
      const destination = harness.destination('conformance/secret.bin') as Record<string, unknown>;
      const secretFields = secretFieldNames(definition.schema);

      const { open, secrets } = splitSecrets(definition.schema, destination);

      expect(secretFields.length).toBeGreaterThan(0);
      expect(Object.keys(secrets).length).toBeGreaterThan(0);
      for (const value of Object.values(secrets).flatMap((secret) => (typeof secret === 'object' && secret ? Object.values(secret) : [secret]))) {
        expect(JSON.stringify(open)).not.toContain(String(value));
      }
    });

    it.runIf(capabilities.probe !== undefined)('answers a probe: all checks pass for a good destination, one fails for a refused one', async () => {
      const signal = AbortSignal.timeout(20_000);

      const good = await uploader.probe!({ destination: harness.destination('conformance/probe.bin'), signal, network: localNetwork });
      const refused = await uploader.probe!({ destination: harness.refusedDestination('conformance/probe.bin'), signal, network: localNetwork });

      expect(good.length).toBeGreaterThan(0);
      expect(good.every((check) => check.ok)).toBe(true);
      expect(refused.some((check) => !check.ok)).toBe(true);
      expect(await harness.leftovers()).toEqual([]);
    });
  });
}
