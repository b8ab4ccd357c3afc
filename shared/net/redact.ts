/**
 * A path segment that looks like a credential: 20 characters or more of letters, digits, `-` and
 * `_` only, with both a letter and a digit. Webhook URLs carry their secret so (Slack's
 * `/services/T…/B…/<token>`, Discord's `/api/webhooks/<id>/<token>`, IFTTT's `/with/key/<key>`);
 * file names (a dot), words and numbers do not look so.
 */
function isTokenLike(segment: string): boolean {
  return segment.length >= 20 && /^[A-Za-z0-9_-]+$/.test(segment) && /[A-Za-z]/.test(segment) && /[0-9]/.test(segment);
}

/** The segments of `url`'s path that look like credentials (see {@link isTokenLike}), as sent. */
export function pathTokens(url: URL): string[] {
  return url.pathname.split('/').filter(isTokenLike);
}

/** `url`'s path with every segment that looks like a credential (see {@link isTokenLike}) shown as `…`. */
export function maskedPath(url: URL): string {
  return url.pathname
    .split('/')
    .map((segment) => (isTokenLike(segment) ? '…' : segment))
    .join('/');
}

/** Whether a URL carries what {@link redactUrl} hides: a user, a query, a fragment or a token-like path segment. */
export function urlHoldsSecrets(address: string): boolean {
  const url = URL.parse(address);
  return url !== null && (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '' || pathTokens(url).length > 0);
}

/**
 * A URL safe to log or record: no user info, no query (presigned URLs carry signatures there), no
 * fragment, and no path segment that looks like a credential (a webhook's token).
 */
export function redactUrl(address: string): string {
  const url = URL.parse(address);
  if (url === null) return '(invalid URL)';
  const query = url.search === '' ? '' : '?…';
  return `${url.origin === 'null' ? `${url.protocol}//${url.host}` : url.origin}${maskedPath(url)}${query}`;
}

const urlInText = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi;
const credentialsInText = /\b(Bearer|Basic|OAuth)\s+[A-Za-z0-9._~+/=-]{4,}/g;

/**
 * Text safe to record, log or answer with: every URL in it redacted as {@link redactUrl} does,
 * every `Bearer`/`Basic`/`OAuth` credential cut, and every value of `secrets` (the secret fields
 * of the delivery at hand) replaced. The one step every error text passes before it reaches a
 * job record, a callback or a log.
 */
export function redactText(text: string, secrets: readonly string[] = []): string {
  let safe = text.replace(urlInText, (url) => redactUrl(url)).replace(credentialsInText, (_match, scheme: string) => `${scheme} …`);
  // Longest first, so a secret that contains another is replaced whole.
  for (const secret of [...secrets].filter((value) => value.length >= 4).sort((a, b) => b.length - a.length)) {
    safe = safe.split(secret).join('…');
  }
  return safe;
}
