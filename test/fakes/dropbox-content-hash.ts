import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** Dropbox hashes content in blocks of 4 MiB. */
export const dropboxHashBlockBytes = 4 * 1024 * 1024;

/**
 * Dropbox's content hash, fed as bytes stream by: SHA-256 of each 4 MiB block, then SHA-256 of
 * those digests concatenated, in hex. Empty content hashes no block.
 */
export class DropboxContentHasher {
  readonly #overall = createHash('sha256');
  #block: Hash = createHash('sha256');
  #blockLength = 0;

  update(bytes: Buffer): this {
    let offset = 0;
    while (offset < bytes.length) {
      const take = Math.min(dropboxHashBlockBytes - this.#blockLength, bytes.length - offset);
      this.#block.update(bytes.subarray(offset, offset + take));
      this.#blockLength += take;
      offset += take;
      if (this.#blockLength === dropboxHashBlockBytes) this.#closeBlock();
    }
    return this;
  }

  digest(): string {
    if (this.#blockLength > 0) this.#closeBlock();
    return this.#overall.digest('hex');
  }

  #closeBlock(): void {
    this.#overall.update(this.#block.digest());
    this.#block = createHash('sha256');
    this.#blockLength = 0;
  }
}

/** The content hash of a file on disk, read as a stream. */
export async function dropboxContentHashOfFile(path: string): Promise<string> {
  const hasher = new DropboxContentHasher();
  for await (const chunk of createReadStream(path)) hasher.update(chunk as Buffer);
  return hasher.digest();
}
