import { crc32 } from 'node:zlib';

/** CRC-32 as S3 and most stores send it: the big-endian 4 bytes, base64. */
export function crc32Base64(value: number): string {
  const bytes = Buffer.allocUnsafe(4);
  bytes.writeUInt32BE(value >>> 0);
  return bytes.toString('base64');
}

function gf2Times(matrix: Uint32Array, vector: number): number {
  let sum = 0;
  for (let index = 0, rest = vector >>> 0; rest !== 0; index += 1, rest >>>= 1) {
    if (rest & 1) sum ^= matrix[index] ?? 0;
  }
  return sum >>> 0;
}

function gf2Square(square: Uint32Array, matrix: Uint32Array): void {
  for (let index = 0; index < 32; index += 1) square[index] = gf2Times(matrix, matrix[index] ?? 0);
}

/**
 * zlib's crc32_combine: the CRC-32 of A followed by B from crc(A), crc(B) and len(B). It lets a
 * part's CRC (which the store checks) also build the whole object's, so every byte is summed once.
 */
export function crc32Combine(crcA: number, crcB: number, lengthB: number): number {
  if (lengthB <= 0) return crcA >>> 0;
  const even = new Uint32Array(32);
  const odd = new Uint32Array(32);
  // The operator for one zero bit: the reflected polynomial, then a shift.
  odd[0] = 0xedb88320;
  for (let index = 1, row = 1; index < 32; index += 1, row = (row << 1) >>> 0) odd[index] = row;
  gf2Square(even, odd);
  gf2Square(odd, even);
  let crc = crcA >>> 0;
  // Apply len(B) zero bytes to crc(A), one squaring per bit of the length (lengths exceed 2^32).
  for (let length = lengthB; ; ) {
    gf2Square(even, odd);
    if (length % 2 === 1) crc = gf2Times(even, crc);
    length = Math.floor(length / 2);
    if (length === 0) break;
    gf2Square(odd, even);
    if (length % 2 === 1) crc = gf2Times(odd, crc);
    length = Math.floor(length / 2);
    if (length === 0) break;
  }
  return (crc ^ crcB) >>> 0;
}

/**
 * The CRC-32 of a whole file as its bytes go by: `extend` sums a stream's chunks, `add` sums a part
 * once and returns that part's own CRC (to send with it) while the whole grows by combination, so
 * every byte is summed once either way.
 */
export class RunningCrc32 {
  /**
   * @param value CRC-32 of the bytes already summed (a resumed upload's prefix)
   * @param length how many bytes that was
   */
  public constructor(
    private value = 0,
    private length = 0,
  ) {}

  /** Sums `bytes` as the continuation of what was summed so far. */
  public extend(bytes: Uint8Array): void {
    this.value = crc32(bytes, this.value);
    this.length += bytes.length;
  }

  /** Sums `bytes` and returns their own CRC-32. */
  public add(bytes: Uint8Array): number {
    const part = crc32(bytes);
    this.append(part, bytes.length);
    return part;
  }

  /** Appends `length` bytes summed elsewhere, whose CRC-32 is `crc`. */
  public append(crc: number, length: number): void {
    this.value = this.length === 0 ? crc : crc32Combine(this.value, crc, length);
    this.length += length;
  }

  public get crc(): number {
    return this.value >>> 0;
  }

  public get bytes(): number {
    return this.length;
  }

  public get base64(): string {
    return crc32Base64(this.value);
  }
}
