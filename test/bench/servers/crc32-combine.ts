/**
 * zlib's crc32_combine: the CRC-32 of A+B from crc(A), crc(B) and len(B), so the sink can check a
 * multipart object's whole CRC without keeping its bytes (parts arrive out of order). Node has
 * zlib.crc32 but does not expose the combine.
 */

function gf2Times(matrix: Uint32Array, vector: number): number {
  let sum = 0;
  let rest = vector >>> 0;
  for (let index = 0; rest !== 0; index += 1, rest >>>= 1) {
    if (rest & 1) sum ^= matrix[index] ?? 0;
  }
  return sum >>> 0;
}

function gf2Square(square: Uint32Array, matrix: Uint32Array): void {
  for (let index = 0; index < 32; index += 1) square[index] = gf2Times(matrix, matrix[index] ?? 0);
}

export function crc32Combine(crcA: number, crcB: number, lengthB: number): number {
  if (lengthB <= 0) return crcA >>> 0;
  const even = new Uint32Array(32);
  const odd = new Uint32Array(32);
  // The operator for one zero bit: the reflected polynomial, then a shift.
  odd[0] = 0xedb88320;
  for (let index = 1, row = 1; index < 32; index += 1, row = (row << 1) >>> 0) odd[index] = row;
  gf2Square(even, odd); // two zero bits
  gf2Square(odd, even); // four zero bits
  let crc = crcA >>> 0;
  // Apply len(B) zero bytes to crc(A), one squaring per bit of the length (lengths exceed 2^32).
  let length = lengthB;
  for (;;) {
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
