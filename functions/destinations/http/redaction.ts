import { basicAuthorization } from './request.ts';
import { isSecretFormField, isSecretHeader, type HttpDestinationFields } from './schema.ts';

/** What is kept of a server's answer, in the delivery's details and in a failure's reason. */
export const serverTextBytes = 512;

/** Marks a value that was left out. */
const redacted = '[redacted]';

/**
 * Every secret value an upload sends, as a server could echo it back (a debugging endpoint that
 * returns the request, an error that quotes the Authorization header): user, password and the
 * Basic credentials made of them, secret headers and form fields whole and without their scheme
 * (`Bearer …`). Longest first, so a secret that contains another is hidden whole.
 */
export function secretValuesOf(destination: HttpDestinationFields): string[] {
  const values: string[] = [];
  if (destination.user !== undefined) {
    const authorization = basicAuthorization(destination.user, destination.password ?? '');
    values.push(destination.user, destination.password ?? '', authorization, authorization.replace(/^Basic /, ''));
  }
  for (const [name, value] of Object.entries(destination.headers)) {
    if (isSecretHeader(name)) values.push(value, ...value.split(/\s+/).slice(1));
  }
  for (const [name, value] of Object.entries(destination.fields)) {
    if (isSecretFormField(name)) values.push(value);
  }
  return [...new Set(values.filter((value) => value.length > 0))].sort((a, b) => b.length - a.length);
}

/** `text` with every secret value replaced by a marker. */
export function redact(text: string, secrets: readonly string[]): string {
  return secrets.reduce((result, secret) => result.replaceAll(secret, redacted), text);
}

/**
 * The start of what a server answered, fit for a record: secrets hidden (before it is cut, so no
 * secret is half shown), control characters and runs of white space made one space, at most
 * {@link serverTextBytes} bytes.
 */
export function serverText(head: Buffer, secrets: readonly string[]): string {
  const text = redact(head.toString('utf8'), secrets)
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f\s]+/g, ' ')
    .trim();
  const bytes = Buffer.from(text);
  // A cut inside a character leaves a replacement character, which is dropped.
  return bytes.length <= serverTextBytes ? text : `${bytes.subarray(0, serverTextBytes).toString('utf8').replace(/\uFFFD$/, '')}…`;
}

/** A URL fit for a record: no user info, no query (presigned URLs carry their signature there), no fragment. */
export function displayUrl(url: URL): string {
  return `${url.origin}${url.pathname}`;
}
