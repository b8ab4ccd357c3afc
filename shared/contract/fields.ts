import * as z from 'zod/mini';
import { markFilePath } from './field-kinds.ts';
import './zod-english.ts';

/**
 * C0 control characters and DEL. A line break ends an HTTP header or an FTP command early (the
 * rest becomes a header or a command of the caller's choosing), NUL ends a C string, and the
 * others are in no name, key or token a server expects.
 */
// eslint-disable-next-line no-control-regex
const controlCharacter = /[\u0000-\u001f\u007f]/;

/** Whether `value` holds a control character (see {@link withoutControlCharacters}). */
export function hasControlCharacter(value: string): boolean {
  return controlCharacter.test(value);
}

/** Refuses a text holding a control character: line breaks, NUL, tabs and the rest of C0, and DEL. */
export const withoutControlCharacters = z.refine<string>((value) => !hasControlCharacter(value), 'must not contain control characters');

/**
 * A credential (a key, a token, a user name, a password): never empty, at most `maxLength`
 * characters, and without control characters, since each travels in a protocol header, a command
 * line or a URL, where one would end a line early or be refused only at delivery. With
 * `inHeader`, printable ASCII only: an HTTP header carries nothing else (Node refuses to send it,
 * and a store signing the request would compute another signature). Never trimmed: a secret is
 * kept as given. The messages never quote the value.
 */
export function credentialText(maxLength: number, options: { readonly inHeader?: boolean } = {}): z.ZodMiniString<string> {
  return z.string().check(
    z.minLength(1, { error: 'must not be empty', abort: true }),
    z.maxLength(maxLength, `must be at most ${maxLength} characters`),
    withoutControlCharacters,
    ...(options.inHeader ? [z.refine<string>((value) => /^[\x20-\x7e]*$/.test(value), 'must be printable ASCII (it travels in an HTTP header)')] : []),
  );
}

/**
 * An http:// or https:// URL (the deployed ingress narrows sources and callbacks to https). A user
 * name or password in it is refused: it would be shown wherever the URL is; credentials go in
 * fields of their own, which are sealed. So are control characters and spaces at either end,
 * checked before the URL check, which would drop them from the value: the job must keep the URL
 * as given, since callbacks are signed with it and receivers check them against the one they gave.
 */
export const httpUrl = z.string().check(
  z.refine((value) => value.trim() === value && !hasControlCharacter(value), {
    error: 'must not contain control characters (line breaks, tabs) or spaces at either end',
    abort: true,
  }),
  z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
  z.refine(
    (value) => {
      const url = URL.parse(value);
      return url === null || (url.username === '' && url.password === '');
    },
    { error: 'must not carry a user name or password (give credentials in their own fields, which are sealed)' },
  ),
);

/** Any text but the empty one. */
export const nonEmpty = z.string().check(z.minLength(1));

/** A whole number from `min` up (to `max` when given). */
export function count(min: number, max?: number): z.ZodMiniNumber<number> {
  return z.number().check(z.int(), z.minimum(min), ...(max === undefined ? [] : [z.maximum(max)]));
}

/** The name of a stored secret (under the deployment's secret prefix) holding a destination's secret fields. */
export const credentialsReference = z
  .string()
  .check(
    z.regex(/^[A-Za-z0-9/_+=.@-]{1,256}$/, 'must be a secret name: letters, digits and /_+=.@-'),
    z.describe('Name of a stored secret whose JSON fills this destination\'s secret fields.'),
  );

/**
 * A value that can travel in one HTTP header line, to any server: printable ASCII (stores such as
 * S3 sign and refuse anything else; Node refuses to send it). Other characters are encoded by the
 * header's own rules, as RFC 8187 does for file names: `filename*=UTF-8''%E2%82%AC.mp4`.
 */
export const headerValue = z.string().check(
  z.minLength(1, { error: 'must not be empty', abort: true }),
  z.maxLength(8192),
  z.refine((value) => /^[\t\x20-\x7e]*$/.test(value), {
    error: "must be printable ASCII without line breaks (encode other characters, e.g. filename*=UTF-8''…)",
  }),
);

/**
 * Numbers and booleans taken as their text, as a form or a header would carry them. A whole number
 * past 2^53 is refused: JSON.parse has already rounded it, so its text would not be the one sent.
 */
export const textOfScalar = z.pipe(
  z.union([z.string(), z.number(), z.boolean()], { error: 'must be a string, a number or a boolean' }).check(
    // Aborts, as a type error does: a map's own rules (metadata's 2 KB) then see only texts.
    z.refine((value) => typeof value !== 'number' || !Number.isInteger(value) || Number.isSafeInteger(value), {
      error: 'is too large a number to keep every digit: give it as a string',
      abort: true,
    }),
  ),
  z.transform((value: string | number | boolean) => String(value)),
);

/** A metadata map: header-safe names; numbers and booleans are taken as their text. */
export const metadataMap = z
  .record(
    z.string().check(z.regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'must be a valid header name (letters, digits, - and _)')),
    z.pipe(textOfScalar, headerValue),
  )
  .check(
    z.refine(
      (metadata) => Object.entries(metadata).reduce((size, [k, v]) => size + Buffer.byteLength(k) + Buffer.byteLength(v), 0) <= 2048,
      'must be at most 2 KB in total (names and values)',
    ),
  );

/**
 * Lets a cross-field rule run even when single fields failed, so one answer lists every problem.
 * Rules given this must not assume any field is of its declared type.
 */
export const alsoWithFieldErrors = {
  when: (payload: { value: unknown }): boolean => typeof payload.value === 'object' && payload.value !== null,
};

/**
 * A path at the destination (an object key, a blob name, a file on a server). Ending in `/` it
 * names a folder, which the service completes with the source's file name. Paths that climb out
 * (`..`), have empty segments (`a//b`), or carry control characters or broken Unicode are refused
 * here, at the door, whatever the destination.
 */
export function filePath(maxBytes = 1024): z.ZodMiniString<string> {
  return markFilePath(
    z.string().check(
      z.minLength(1, { error: 'must not be empty', abort: true }),
      z.refine((path) => path.isWellFormed(), 'must be valid Unicode (no unpaired surrogates)'),
      z.refine((path) => Buffer.byteLength(path) <= maxBytes, `must be at most ${maxBytes} bytes`),
      withoutControlCharacters,
      z.refine(
        (path) => {
          const inner = path.replace(/^\//, '').replace(/\/$/, '');
          return inner === '' ? path === '/' : !inner.split('/').some((segment) => segment === '' || segment === '..');
        },
        { error: "must not contain '..' or empty segments ('a//b')" },
      ),
    ),
  );
}
