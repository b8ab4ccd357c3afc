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
