import { maxNameBytes, withinBytes } from '../destination/file-names.ts';

/**
 * Characters a name taken from a source never keeps: controls (C0, DEL, C1), which would end an
 * FTP command or a header line; slashes of either kind, which would make it a path; and the
 * invisible marks that reorder or break a line (`clip`, U+202E, `4pm.exe` shows as `clipexe.mp4`).
 */
// eslint-disable-next-line no-control-regex
const unsafeCharacter = /[\u0000-\u001f\u007f-\u009f/\\\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;

/** Windows' device names, which a Windows server opens as a device whatever extension follows. */
const deviceName = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\.|$)/i;

/** An extension as `withExtension` recognises one. */
const extensionPattern = /\.[A-Za-z0-9]{1,16}$/;

/** Takes the place of a name that holds nothing a file may be called. */
const fallbackName = 'file';

/**
 * A character that is safe itself, but that a server normalising Unicode (NFKC, or Windows'
 * best-fit mapping to a code page) turns into a slash: the fullwidth solidus U+FF0F, and its kin.
 */
function becomesSlash(character: string): boolean {
  return /[/\\]/.test(character.normalize('NFKC'));
}

/**
 * `raw` made one name that every destination stores as it is shown, in the folder it was meant
 * for: unsafe characters become `_`; spaces at either end and trailing dots go (Windows servers
 * and Azure drop a trailing dot, Dropbox refuses a trailing space); a name left empty or of dots
 * alone (`..`, also as U+2025 TWO DOT LEADER) becomes `file`; a Windows device name gets a `_`.
 */
function portable(raw: string): string {
  const replaced = Array.from(raw.toWellFormed(), (character) => (unsafeCharacter.test(character) || becomesSlash(character) ? '_' : character)).join('');
  const trimmed = replaced.trim().replace(/[\s.]+$/u, '');
  if (/^[\s.]*$/u.test(trimmed.normalize('NFKC'))) return fallbackName;
  return deviceName.test(trimmed) ? `_${trimmed}` : trimmed;
}

/** Gives a name without an extension the job's `extension`. */
function withExtension(name: string, extension: string | undefined): string {
  return extension && !extensionPattern.test(name) ? `${name}.${extension}` : name;
}

/** `name` within the bytes one name may take, cut before its extension so that it keeps it. */
function fitted(name: string): string {
  if (Buffer.byteLength(name) <= maxNameBytes) return name;
  const extension = extensionPattern.exec(name)?.[0] ?? '';
  const stem = withinBytes(name.slice(0, name.length - extension.length), maxNameBytes - extension.length);
  // Without an extension after it, a cut that ends in a space or a dot would end the name so.
  return extension ? `${stem}${extension}` : stem.replace(/[\s.]+$/u, '');
}

function percentDecoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * Text that Node read as Latin-1 (as it reads every header) decoded as the UTF-8 it is, when its
 * bytes are valid UTF-8: servers send file names as raw UTF-8 far more often than as Latin-1,
 * and browsers read them so.
 */
function utf8OfLatin1(text: string): string {
  if (!/[\u0080-\u00ff]/.test(text) || /[\u0100-\uffff]/.test(text)) return text;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(text, 'latin1'));
  } catch {
    return text;
  }
}

/** A `filename*` value (RFC 8187): `charset'language'percent-encoded`, in UTF-8 or ISO-8859-1. */
function extendedValue(value: string): string | undefined {
  const match = /^(utf-8|iso-8859-1)'[^']*'(.+)$/i.exec(value.trim());
  if (!match) return undefined;
  const [, charset, encoded] = match as unknown as [string, string, string];
  if (charset.toLowerCase() === 'utf-8') return percentDecoded(encoded);
  return encoded.replace(/%([0-9a-f]{2})/gi, (_escape, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

/** The parameters of a Content-Disposition header by lower-cased name, quoted strings unquoted. */
function dispositionParameters(header: string): Map<string, string> {
  const parameters = new Map<string, string>();
  for (const [, name, quoted, token] of header.matchAll(/(?:^|;)\s*([^\s=;]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))/g)) {
    const key = name!.toLowerCase();
    if (!parameters.has(key)) parameters.set(key, quoted === undefined ? token!.trim() : quoted.replace(/\\(.)/g, '$1'));
  }
  return parameters;
}

/** The file name a Content-Disposition header gives: `filename*` before `filename` (RFC 6266 §4.3). */
function dispositionFileName(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const parameters = dispositionParameters(header);
  const extended = parameters.get('filename*');
  const fromExtended = extended === undefined ? undefined : extendedValue(extended);
  if (fromExtended) return fromExtended;
  const plain = parameters.get('filename');
  // Percent escapes in a plain filename are decoded, as Chrome does.
  return plain ? percentDecoded(utf8OfLatin1(plain)) : undefined;
}

/** The last non-empty segment of a `/`-separated path. */
function lastSegment(path: string): string {
  return path.split('/').filter(Boolean).pop() ?? '';
}

/**
 * The name a source's file takes in a folder filename: the one its answer's Content-Disposition
 * gives (its last segment, should it hold a path: RFC 6266 §4.3), else the last segment of its URL
 * path, percent-decoded; made {@link portable} and fitted within the bytes one name may take, with
 * the job's `extension` when it has none.
 */
export function nameOfUrlSource(pathname: string, disposition: string | undefined, extension: string | undefined): string {
  const given = dispositionFileName(disposition);
  const name = given === undefined ? percentDecoded(lastSegment(pathname)) : lastSegment(given);
  return fitted(withExtension(portable(name), extension));
}

/**
 * The name of an object's file: the last segment of its key as written (a key is not
 * percent-encoded: `a%20b.mp4` is the name a presigned upload gave), made portable and fitted as
 * {@link nameOfUrlSource} does.
 */
export function nameOfObjectSource(key: string, extension: string | undefined): string {
  return fitted(withExtension(portable(lastSegment(key)), extension));
}
