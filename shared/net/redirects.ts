/**
 * Whether a client may follow a redirect from `from` to `to`: the target must be http or https,
 * and an https URL must not lead to plain http, where what the caller sent over TLS (and what
 * comes back) would travel in clear. Where the target connects is the guarded agents' business;
 * this is only about the hop.
 *
 * @example
 * ```ts
 * isRedirectAllowed('https://cdn.example.com/a', 'https://other.example.org/b'); // true
 * isRedirectAllowed('https://cdn.example.com/a', 'http://cdn.example.com/a'); // false: a downgrade
 * isRedirectAllowed('https://cdn.example.com/a', 'file:///etc/passwd'); // false
 * ```
 */
export function isRedirectAllowed(from: string | URL, to: string | URL): boolean {
  const source = new URL(from);
  const target = new URL(to, source);
  if (target.protocol !== 'https:' && target.protocol !== 'http:') return false;
  return !(source.protocol === 'https:' && target.protocol === 'http:');
}
