import { RedirectError } from './errors.ts';
import { exchange, firstHeader, type Answer, type ExchangeOptions } from './exchange.ts';
import { displayUrl } from './redaction.ts';
import type { PlannedRequest } from './request.ts';

/** Redirects followed at most: an upload endpoint needs few, and each one costs a round trip. */
export const maxRedirects = 5;

/**
 * Where a 307 or 308 leads, or why it is not followed: the body already went (the source is read
 * once per attempt), too many hops, no usable Location, or https leading to plain http. Where
 * the next address connects is checked by the guarded agents, hop by hop.
 */
export function nextHop(from: URL, answer: Pick<Answer, 'status' | 'headers' | 'bodyStarted'>, redirects: number): URL {
  const location = firstHeader(answer.headers, 'location');
  const to = location === undefined ? null : URL.parse(location, from.href);
  const shown = to === null ? (location ?? '') : displayUrl(to);
  if (to === null) throw new RedirectError('no-location', answer.status, shown);
  if (answer.bodyStarted) throw new RedirectError('after-body', answer.status, shown);
  if (redirects >= maxRedirects) throw new RedirectError('too-many', answer.status, shown);
  if (to.protocol !== 'http:' && to.protocol !== 'https:') throw new RedirectError('not-http', answer.status, shown);
  if (from.protocol === 'https:' && to.protocol === 'http:') throw new RedirectError('downgrade', answer.status, shown);
  return to;
}

/** The final answer, where it came from, and after how many redirects. */
export interface FinalAnswer {
  readonly answer: Answer;
  readonly url: URL;
  readonly redirects: number;
}

/**
 * Sends `request` to `start` and follows 307 and 308 (which keep the method and the body; 301,
 * 302 and 303 would turn it into a GET and are returned as they are). Every request with a body
 * asks first (`Expect: 100-continue`), so a redirect or a refusal comes before the source is read
 * and the body goes only to the address that takes it; a server that refuses the expectation (417)
 * is asked again without it. Credentials go only to `start`'s origin.
 */
export async function sendFollowingRedirects(start: URL, request: PlannedRequest, options: ExchangeOptions): Promise<FinalAnswer> {
  let url = start;
  let redirects = 0;
  // An empty body costs nothing to send: no need to ask.
  let expectContinue = request.body !== undefined && request.body.length !== 0;
  for (;;) {
    const answer = await exchange(url, { method: request.method, headers: request.headers(url.origin === start.origin), body: request.body, expectContinue }, options);
    if (answer.status === 417 && expectContinue && !answer.bodyStarted) {
      expectContinue = false;
      continue;
    }
    if (answer.status !== 307 && answer.status !== 308) return { answer, url, redirects };
    url = nextHop(url, answer, redirects);
    redirects += 1;
  }
}
