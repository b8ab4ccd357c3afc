import { basicAuthorization, maskedPath, pathTokens } from '../../../shared/destination/index.ts';
import { isSecretFormField, isSecretHeader, type HttpDestinationFields } from './schema.ts';

/** What is kept of a server's answer, in the delivery's details and in a failure's reason. */
export const serverTextBytes = 512;

/** Marks a value that was left out. */
const redacted = '[redacted]';

/**
 * Shorter query values are flags, counts and short names (`sp=rw`, `X-Amz-Expires=3600`,
 * `X-Amz-SignedHeaders=host`), not credentials: hiding them would only mangle the words of a text.
 */
const shortestSecretQueryValue = 8;

/** A query value as a server reads it (a form's encoding: `+` is a space); malformed escapes as they are. */
function decodedQueryValue(value: string): string {
  try {
    return decodeURIComponent(value.replaceAll('+', ' '));
  } catch {
    return value;
  }
}

/**
 * The values of `url`'s query that may be credentials, as sent (percent-encoded) and as decoded:
 * every value long enough, whatever its name, since a presigned or capability url's secret has
 * no standard one (`X-Amz-Signature`, `sig`, `Signature`, `token`, `upload_id`, …). A value hidden
 * needlessly costs a detail the caller can read in its own url; one missed is a leaked credential.
 */
function queryValuesOf(url: URL): string[] {
  return (
    url.search
      .slice(1)
      .split('&')
      // A pair without "=" (`?<token>`) is a value of its own.
      .map((pair) => pair.slice(pair.indexOf('=') + 1))
      .flatMap((sent) => [sent, decodedQueryValue(sent)])
      .filter((value) => value.length >= shortestSecretQueryValue)
  );
}

/**
 * Every secret value an upload sends, as a server could echo it back (a debugging endpoint that
 * returns the request, an error that quotes the Authorization header or the signature): user,
 * password and the Basic credentials made of them, secret headers and form fields whole and
 * without their scheme (`Bearer …`), and the query values and token-like path segments of the url
 * and of the address that answered (`answeredFrom`, after redirects), where presigned urls carry
 * their signature and webhooks their token. Longest
 * first, so a secret that contains another is hidden whole.
 */
export function secretValuesOf(destination: HttpDestinationFields, answeredFrom: URL): string[] {
  const sentTo = new URL(destination.url);
  const values = [...queryValuesOf(sentTo), ...queryValuesOf(answeredFrom), ...pathTokens(sentTo), ...pathTokens(answeredFrom)];
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

/**
 * A URL fit for a record: no user info, no query (presigned URLs carry their signature there), no
 * fragment, no path segment that looks like a token (a webhook's). Unlike `redactUrl` it marks no
 * query left out: the delivered file's url is recorded so, and stays a link that opens.
 */
export function displayUrl(url: URL): string {
  return `${url.origin}${maskedPath(url)}`;
}
