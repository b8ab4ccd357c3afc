/**
 * A URL safe to log or record: no user info, no query (presigned URLs carry signatures there),
 * no fragment.
 */
export function redactUrl(address: string): string {
  try {
    const url = new URL(address);
    url.username = '';
    url.password = '';
    const hadQuery = url.search !== '';
    url.search = '';
    url.hash = '';
    return hadQuery ? `${url.toString()}?…` : url.toString();
  } catch {
    return '(invalid URL)';
  }
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
