import { createHash } from 'node:crypto';

/** Dropbox hashes content in blocks of 4 MiB. */
export const hashBlockBytes = 4 * 1024 * 1024;

/**
 * SHA-256's round constants and initial state: the first 32 bits of the fractional parts of the
 * cube roots of the first 64 primes, and of the square roots of the first 8. Computed rather than
 * listed; the tests check the result against Node's own SHA-256.
 */
function sha256Constants(): { readonly rounds: Uint32Array; readonly initial: Uint32Array } {
  const primes: number[] = [];
  for (let candidate = 2; primes.length < 64; candidate += 1) {
    if (primes.every((prime) => candidate % prime !== 0)) primes.push(candidate);
  }
  const fraction = (value: number): number => ((value - Math.floor(value)) * 2 ** 32) >>> 0;
  return {
    rounds: Uint32Array.from(primes, (prime) => fraction(Math.cbrt(prime))),
    initial: Uint32Array.from(primes.slice(0, 8), (prime) => fraction(Math.sqrt(prime))),
  };
}

const { rounds, initial } = sha256Constants();
const schedule = new Uint32Array(64);

function rotateRight(value: number, bits: number): number {
  return (value >>> bits) | (value << (32 - bits));
}

/** SHA-256's compression of one 64-byte block into `state`. */
function compress(state: Uint32Array, block: Uint8Array): void {
  const view = new DataView(block.buffer, block.byteOffset, 64);
  for (let index = 0; index < 16; index += 1) schedule[index] = view.getUint32(index * 4);
  for (let index = 16; index < 64; index += 1) {
    const early = schedule[index - 15]!;
    const late = schedule[index - 2]!;
    const sigma0 = rotateRight(early, 7) ^ rotateRight(early, 18) ^ (early >>> 3);
    const sigma1 = rotateRight(late, 17) ^ rotateRight(late, 19) ^ (late >>> 10);
    schedule[index] = (schedule[index - 16]! + sigma0 + schedule[index - 7]! + sigma1) >>> 0;
  }
  let [a, b, c, d, e, f, g, h] = state as unknown as [number, number, number, number, number, number, number, number];
  for (let index = 0; index < 64; index += 1) {
    const sum1 = rotateRight(e, 6) ^ rotateRight(e, 11) ^ rotateRight(e, 25);
    const choice = (e & f) ^ (~e & g);
    const first = (h + sum1 + choice + rounds[index]! + schedule[index]!) >>> 0;
    const sum0 = rotateRight(a, 2) ^ rotateRight(a, 13) ^ rotateRight(a, 22);
    const majority = (a & b) ^ (a & c) ^ (b & c);
    const second = (sum0 + majority) >>> 0;
    [h, g, f, e, d, c, b, a] = [g, f, e, (d + first) >>> 0, c, b, a, (first + second) >>> 0];
  }
  const next = [a, b, c, d, e, f, g, h];
  for (let index = 0; index < 8; index += 1) state[index] = (state[index]! + next[index]!) >>> 0;
}

/** The content hash of the bytes so far, as a resume state stores it: a few dozen bytes whatever the size. */
export interface ContentHashState {
  /** The outer SHA-256's state after every whole 64-byte block of digests, as hex. */
  readonly words: string;
  /** A block digest waiting for its pair (hex), or empty. */
  readonly pending: string;
  /** 4 MiB blocks hashed so far. */
  readonly blocks: number;
}

/**
 * Dropbox's content hash of a whole file, fed 4 MiB block by block: the SHA-256 of the
 * concatenated SHA-256 digests of the blocks. The outer SHA-256 is computed here, not by Node,
 * because its state must be saved with an upload session and continued by a later attempt
 * (Node's hashes cannot be saved): two 32-byte digests fill one SHA-256 block, so the state is the
 * eight words after the last whole pair and, at most, one digest waiting for its pair.
 */
export class ContentHasher {
  readonly #words: Uint32Array;
  #pending: Buffer | undefined;
  #blocks: number;

  private constructor(words: Uint32Array, pending: Buffer | undefined, blocks: number) {
    this.#words = words;
    this.#pending = pending;
    this.#blocks = blocks;
  }

  /** A hasher of nothing yet, or one continuing a saved state. */
  static from(state?: ContentHashState): ContentHasher {
    if (!state) return new ContentHasher(Uint32Array.from(initial), undefined, 0);
    const words = Buffer.from(state.words, 'hex');
    const pending = state.pending === '' ? undefined : Buffer.from(state.pending, 'hex');
    if (words.length !== 32 || (pending !== undefined && pending.length !== 32) || (state.blocks % 2 === 1) !== (pending !== undefined)) {
      throw new Error('not a content hash state');
    }
    return new ContentHasher(Uint32Array.from({ length: 8 }, (_, index) => words.readUInt32BE(index * 4)), pending, state.blocks);
  }

  /** Adds the digests of the next blocks, in order. */
  add(digests: readonly Buffer[]): void {
    for (const digest of digests) {
      this.#blocks += 1;
      if (!this.#pending) {
        this.#pending = Buffer.from(digest);
        continue;
      }
      compress(this.#words, Buffer.concat([this.#pending, digest]));
      this.#pending = undefined;
    }
  }

  get state(): ContentHashState {
    return { words: hexOf(this.#words), pending: this.#pending?.toString('hex') ?? '', blocks: this.#blocks };
  }

  /** The content hash (hex) of everything added so far; more may be added after. */
  digest(): string {
    const words = Uint32Array.from(this.#words);
    const length = this.#blocks * 32;
    // SHA-256 padding: a 1 bit, zeros, and the message length in bits, to a multiple of 64 bytes.
    const tail = Buffer.alloc((this.#pending ? 32 : 0) + 9 <= 64 ? 64 : 128);
    this.#pending?.copy(tail);
    tail[this.#pending ? 32 : 0] = 0x80;
    tail.writeBigUInt64BE(BigInt(length) * 8n, tail.length - 8);
    for (let offset = 0; offset < tail.length; offset += 64) compress(words, tail.subarray(offset, offset + 64));
    return hexOf(words);
  }
}

function hexOf(words: Uint32Array): string {
  const bytes = Buffer.alloc(32);
  words.forEach((word, index) => bytes.writeUInt32BE(word, index * 4));
  return bytes.toString('hex');
}

/**
 * The SHA-256 of each 4 MiB block of `bytes` (which starts on a block boundary). Hashed in place:
 * WebCrypto would move the work to the thread pool but copies every byte first.
 */
export function blockDigests(bytes: Uint8Array): Buffer[] {
  const digests: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += hashBlockBytes) {
    digests.push(createHash('sha256').update(bytes.subarray(offset, offset + hashBlockBytes)).digest());
  }
  return digests;
}

/** The content hash of one request's bytes, from their block digests (Dropbox checks it before keeping them). */
export function contentHashOf(digests: readonly Buffer[]): string {
  return createHash('sha256').update(Buffer.concat(digests)).digest('hex');
}
