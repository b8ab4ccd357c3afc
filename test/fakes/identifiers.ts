import { randomInt } from 'node:crypto';

const urlSafe = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** A random identifier of `length` characters drawn from `alphabet` (URL-safe by default). */
export function randomIdentifier(length: number, alphabet = urlSafe): string {
  let identifier = '';
  for (let index = 0; index < length; index += 1) identifier += alphabet[randomInt(alphabet.length)];
  return identifier;
}

/** A random identifier of decimal digits, as Meta and Dropbox number their objects. */
export function randomDigits(length: number): string {
  return randomIdentifier(length, '0123456789');
}
