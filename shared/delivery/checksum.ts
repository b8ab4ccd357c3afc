import { crc32 } from 'node:zlib';

/** CRC-32 as S3 and most stores send it: the big-endian 4 bytes, base64. */
export function crc32Base64(value: number): string {
  const bytes = Buffer.allocUnsafe(4);
  bytes.writeUInt32BE(value >>> 0);
  return bytes.toString('base64');
}

/** A running CRC-32 over every byte sent, in order (Node 22's native zlib.crc32). */
export class RunningCrc32 {
  private value = 0;
  private length = 0;

  public update(bytes: Uint8Array): void {
    this.value = crc32(bytes, this.value);
    this.length += bytes.length;
  }

  public get bytes(): number {
    return this.length;
  }

  public get base64(): string {
    return crc32Base64(this.value);
  }
}
