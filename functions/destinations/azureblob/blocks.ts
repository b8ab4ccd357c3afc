import { randomBytes } from 'node:crypto';
import { crc32Combine, type SourceStart } from '../../../shared/destination/index.ts';

const MiB = 1024 * 1024;
/** The most blocks a block blob holds. */
export const maxBlocks = 50_000;
/** The largest block (service version 2019-12-12 and later). */
export const maxBlockSize = 4000 * MiB;

/** How blocks are cut and sent; the defaults keep memory near `maxBytesInFlight` for any file size. */
export interface BlockSettings {
  /** Smallest block; larger files get larger blocks so they fit in 50,000. @default 8 MiB */
  readonly blockSize: number;
  /** Blocks in flight at most. @default 4 */
  readonly concurrency: number;
  /** Bytes held in blocks in flight at most; bounds memory when blocks must be large. @default 32 MiB */
  readonly maxBytesInFlight: number;
}

export const defaultBlockSettings: BlockSettings = { blockSize: 8 * MiB, concurrency: 4, maxBytesInFlight: 32 * MiB };

/**
 * The size of block `index`. With a known size every block is equal and 50,000 of them cover the
 * file. With an unknown size the blocks double every 5,000, which reaches past 38 TiB.
 */
export function blockSizer(size: number | undefined, settings: BlockSettings): (index: number) => number {
  if (size !== undefined) {
    const fitted = Math.max(settings.blockSize, Math.ceil(size / maxBlocks / MiB) * MiB);
    return () => Math.min(fitted, maxBlockSize);
  }
  return (index) => Math.min(settings.blockSize * 2 ** Math.floor(index / 5000), maxBlockSize);
}

/** What a block's id says about it: the upload it belongs to, where it stands in the file, its bytes' length and CRC-32. */
export interface StagedBlock {
  readonly id: string;
  readonly session: string;
  readonly index: number;
  readonly length: number;
  readonly crc32: number;
}

/**
 * `u1` + session (8 hex) + index (5 digits) + CRC-32 (8 hex) + length (10 digits): 33 bytes, so
 * every id of a blob has the same length (the service requires it) and its base64 has no padding.
 * The id alone tells a later attempt of the same upload which bytes a staged block holds, so it
 * continues without reading them back; the session keeps apart the blocks another upload to the
 * same name staged meanwhile.
 */
const idPattern = /^u1([0-9a-f]{8})(\d{5})([0-9a-f]{8})(\d{10})$/;

/** A new upload's session, which its block ids carry. */
export function newSession(): string {
  return randomBytes(4).toString('hex');
}

export function blockId(session: string, index: number, crc32: number, length: number): string {
  const text = `u1${session}${String(index).padStart(5, '0')}${(crc32 >>> 0).toString(16).padStart(8, '0')}${String(length).padStart(10, '0')}`;
  return Buffer.from(text, 'latin1').toString('base64');
}

/** The block an id of ours names, or undefined for anyone else's id. */
export function parseBlockId(id: string): StagedBlock | undefined {
  const match = idPattern.exec(Buffer.from(id, 'base64').toString('latin1'));
  if (!match) return undefined;
  return { id, session: match[1]!, index: Number(match[2]), crc32: Number.parseInt(match[3]!, 16), length: Number(match[4]) };
}

/** Blocks staged from the file's start, and where the source is to be read from after them. */
export interface StagedPrefix {
  readonly blocks: readonly StagedBlock[];
  readonly start: SourceStart;
}

/**
 * The blocks of upload `session` that continue the file from its first byte without a gap, each
 * of the length this upload cuts (the last one of a known size may be shorter), with the CRC-32 of
 * the bytes they hold combined from their ids. Whatever follows a gap is sent again.
 *
 * @param staged - the uncommitted blocks as Get Block List lists them (id and size)
 */
export function stagedPrefix(
  staged: readonly { readonly id: string; readonly size: number }[],
  session: string,
  sizeOf: (index: number) => number,
  fileSize: number | undefined,
): StagedPrefix {
  const byIndex = new Map<number, StagedBlock>();
  for (const { id, size } of staged) {
    const block = parseBlockId(id);
    if (block && block.session === session && block.length === size) byIndex.set(block.index, block);
  }
  const blocks: StagedBlock[] = [];
  let offset = 0;
  let crc = 0;
  for (let index = 0; ; index += 1) {
    const block = byIndex.get(index);
    const expected = fileSize === undefined ? sizeOf(index) : Math.min(sizeOf(index), fileSize - offset);
    if (!block || expected <= 0 || block.length !== expected) break;
    blocks.push(block);
    crc = offset === 0 ? block.crc32 : crc32Combine(crc, block.crc32, block.length);
    offset += block.length;
  }
  return { blocks, start: offset === 0 ? { offset: 0 } : { offset, crc32: crc } };
}
