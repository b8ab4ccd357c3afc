/**
 * Whether `host` is one of `patterns`: a pattern is a host name (`renders.example.com`), or
 * `*.` and a domain for any name under it (`*.amazonaws.com`, which does not match the domain
 * itself). Names compare case-insensitively, without a trailing dot.
 *
 * @example
 * hostMatches('s3.eu-west-1.amazonaws.com', ['*.amazonaws.com']); // true
 */
export function hostMatches(host: string, patterns: readonly string[]): boolean {
  const name = host.toLowerCase().replace(/\.$/, '');
  return patterns.some((pattern) => {
    const wanted = pattern.toLowerCase().replace(/\.$/, '');
    return wanted.startsWith('*.') ? name.endsWith(wanted.slice(1)) && name.length > wanted.length - 1 : name === wanted;
  });
}
