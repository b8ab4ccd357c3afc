import { firstHeader, type Answer } from './exchange.ts';
import { displayUrl } from './redaction.ts';

/** A `url` at the top of a JSON answer, resolved against where it came from. */
function jsonUrl(answer: Answer, from: URL): URL | undefined {
  const type = firstHeader(answer.headers, 'content-type') ?? '';
  if (!/json/i.test(type) && !answer.head.toString('utf8').trimStart().startsWith('{')) return undefined;
  try {
    const parsed: unknown = JSON.parse(answer.head.toString('utf8'));
    const url = (parsed as { url?: unknown } | null)?.url;
    return typeof url === 'string' ? (URL.parse(url, from.href) ?? undefined) : undefined;
  } catch {
    // Not JSON after all, or longer than what was kept.
    return undefined;
  }
}

function isHttp(url: URL | undefined | null): url is URL {
  return url !== undefined && url !== null && (url.protocol === 'http:' || url.protocol === 'https:');
}

/**
 * A url the server named, as recorded: whole (a download link's own signature is the server's to
 * give), unless it carries one of the upload's `secrets`, as a server naming the presigned url it
 * was sent to does.
 */
function shown(url: URL, secrets: readonly string[]): string {
  return secrets.some((secret) => url.href.includes(secret)) ? displayUrl(url) : url.href;
}

/**
 * Where the delivered file is, as the server tells it: the answer's `Location` (a 201 Created),
 * else a `url` field of a JSON answer, else the address the upload went to (without its query,
 * which may hold a signature).
 */
export function deliveredUrl(answer: Answer, from: URL, secrets: readonly string[]): string {
  const location = firstHeader(answer.headers, 'location');
  const fromLocation = location === undefined ? undefined : URL.parse(location, from.href);
  if (isHttp(fromLocation)) return shown(fromLocation, secrets);
  const fromJson = jsonUrl(answer, from);
  if (isHttp(fromJson)) return shown(fromJson, secrets);
  return displayUrl(from);
}
