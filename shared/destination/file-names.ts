import { randomBytes } from 'node:crypto';
import * as z from 'zod/mini';

/**
 * The most bytes one name in a path may take: ext4, XFS and APFS count 255 bytes of UTF-8; NTFS
 * counts 255 UTF-16 units, which a name of at most 255 UTF-8 bytes never exceeds.
 */
export const maxNameBytes = 255;

/** The longest start of `text` that takes at most `maxBytes` bytes in UTF-8, cut between code points. */
export function withinBytes(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  let bytes = 0;
  let end = 0;
  for (const character of text) {
    bytes += Buffer.byteLength(character);
    if (bytes > maxBytes) break;
    end += character.length;
  }
  return text.slice(0, end);
}

/**
 * A fresh temporary name for a file that is to become `name`: hidden, unique to this upload, ending
 * in `suffix`, and holding as much of `name` as keeps it within {@link maxNameBytes}. A name counted
 * in characters instead would outgrow the limit with wide characters (CJK, emoji) and make a server
 * refuse the temporary file of a final name it takes.
 *
 * @example
 * ```ts
 * temporaryNameFor('welcome.mp4', '.partial'); // '.welcome.mp4.3f9a1c07d2e4b816.partial'
 * ```
 */
export function temporaryNameFor(name: string, suffix: string): string {
  const id = randomBytes(8).toString('hex');
  return `.${withinBytes(name, maxNameBytes - Buffer.byteLength(`..${id}${suffix}`))}.${id}${suffix}`;
}

/**
 * Refuses a path whose last segment is `.` (`videos/.`): it names the folder, not a file. A
 * server's rename of the finished file onto it fails, and a URL drops the dot and so names the
 * folder itself, each only once the whole file has been sent.
 */
export const namesAFile = z.refine<string>((path) => path.split('/').at(-1) !== '.', "must name a file: its last segment must not be '.'");

/** Refuses a path with a name (between slashes) longer than file systems take. */
export const namesWithinBytes = z.refine<string>(
  (path) => path.split('/').every((name) => Buffer.byteLength(name) <= maxNameBytes),
  `must not hold a name (between slashes) longer than ${maxNameBytes} bytes (UTF-8): file systems refuse it`,
);
