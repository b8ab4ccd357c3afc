import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { blockDigests, ContentHasher, contentHashOf, hashBlockBytes } from '../../functions/destinations/dropbox/content-hash.ts';
import { DropboxContentHasher } from '../fakes/dropbox-content-hash.ts';
import { patternBytes } from '../support/sources.ts';

function digestsOf(count: number): Buffer[] {
  return Array.from({ length: count }, (_, index) => createHash('sha256').update(`block ${index}`).digest());
}

describe('Dropbox content hash', () => {
  it.each([0, 1, 2, 3, 7, 64, 129])('computes the SHA-256 of %i block digests as Node does', (count) => {
    const digests = digestsOf(count);
    const hasher = ContentHasher.from();

    hasher.add(digests);

    expect(hasher.digest()).toBe(createHash('sha256').update(Buffer.concat(digests)).digest('hex'));
  });

  it('continues from a saved state, with or without a digest waiting for its pair', () => {
    const digests = digestsOf(11);
    const first = ContentHasher.from();
    first.add(digests.slice(0, 3));
    const second = ContentHasher.from(JSON.parse(JSON.stringify(first.state)));
    second.add(digests.slice(3, 8));
    const third = ContentHasher.from(second.state);

    third.add(digests.slice(8));

    expect(third.digest()).toBe(createHash('sha256').update(Buffer.concat(digests)).digest('hex'));
    expect(third.state.blocks).toBe(11);
  });

  it('hashes a file as Dropbox does (4 MiB blocks), matching the fake computed independently', () => {
    const bytes = patternBytes(2 * hashBlockBytes + 12_345, 5);
    const hasher = ContentHasher.from();

    const digests = blockDigests(bytes);
    hasher.add(digests);

    const expected = new DropboxContentHasher().update(bytes).digest();
    expect(digests).toHaveLength(3);
    expect(hasher.digest()).toBe(expected);
    expect(contentHashOf(digests)).toBe(expected);
  });

  it('fails when a saved state is damaged', () => {
    expect(() => ContentHasher.from({ words: 'abc', pending: '', blocks: 0 })).toThrow('not a content hash state');
    expect(() => ContentHasher.from({ ...ContentHasher.from().state, blocks: 1 })).toThrow('not a content hash state');
  });
});
