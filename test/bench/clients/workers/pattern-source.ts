import { SourceReader } from '../../../../shared/sources/delivery-source.ts';
import { patternStream } from '../../input/pattern.ts';

/**
 * The bench's input as a delivery's source: `size` bytes of the pattern, whose parts can be read by
 * themselves, as an object of the staging bucket can (a ranged read of the pattern from any offset).
 */
export function patternSource(size: number, name: string): SourceReader {
  const opened = (offset: number, end: number) => ({
    stream: patternStream(end - offset, offset),
    startsAt: offset,
    size,
    contentType: 'application/octet-stream',
    name,
    version: '"bench"',
    ranges: true,
  });
  return new SourceReader(opened(0, size), { reopen: async (offset, bounds) => opened(offset, bounds?.end ?? size) });
}
