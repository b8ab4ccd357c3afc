import { lookup as systemLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { addressRefusal, hostRefusal } from './address-policy.ts';
import { AddressNotAllowedError } from './address-not-allowed-error.ts';

type LookupCallback = Parameters<LookupFunction>[2];

/** `dns.lookup` also takes a family number, or no options at all. */
type LookupArguments = [options: LookupOptions | number, callback: LookupCallback] | [callback: LookupCallback];

function lookupOptions(options: LookupOptions | number | undefined): LookupOptions {
  if (typeof options === 'number') return { family: options };
  return options ?? {};
}

function notFound(hostname: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname });
}

/**
 * A `dns.lookup`-compatible function that resolves with `resolve`, then refuses (with an
 * {@link AddressNotAllowedError}) when the name itself is refused by the address policy or when
 * ANY address it resolves to is: a name with one public and one private address must not let a
 * client pick the private one. It always asks `resolve` for every address and answers in the form
 * the caller asked for (`all: true` → the list; otherwise the first, as `dns.lookup` would).
 *
 * Because the socket connects to exactly the addresses this function hands it, the check and the
 * connection use the same answer: a name that resolves to a public address for a pre-check and
 * to 127.0.0.1 a moment later (DNS rebinding) is refused here, at connect time.
 *
 * @param resolve - the resolver asked first; the system resolver (`dns.lookup`) by default
 * @example
 * ```ts
 * // A resolver of one's own (tests, or a DNS-over-HTTPS client) behind the same check:
 * const lookup = createGuardedLookup((hostname, options, callback) => callback(null, [{ address: '93.184.215.14', family: 4 }]));
 * ```
 */
export function createGuardedLookup(resolve: LookupFunction = systemLookup): LookupFunction {
  return (hostname: string, ...rest: LookupArguments): void => {
    const [given, callback] = rest.length === 1 ? [undefined, rest[0]] : rest;
    const options = lookupOptions(given);
    const refusal = hostRefusal(hostname);
    if (refusal !== undefined) {
      process.nextTick(callback, new AddressNotAllowedError(hostname, hostname, refusal), '');
      return;
    }
    resolve(hostname, { ...options, all: true }, (error, answer) => {
      if (error) return callback(error, '');
      const addresses: LookupAddress[] = typeof answer === 'string' ? [{ address: answer, family: isIP(answer) }] : answer;
      for (const { address } of addresses) {
        const refused = addressRefusal(address);
        if (refused !== undefined) return callback(new AddressNotAllowedError(hostname, address, refused), '');
      }
      const [first] = addresses;
      if (!first) return callback(notFound(hostname), '');
      if (options.all) return callback(null, addresses);
      return callback(null, first.address, first.family);
    });
  };
}

/**
 * {@link createGuardedLookup} over the system resolver, for clients that take a `lookup` option.
 *
 * @example
 * ```ts
 * const socket = net.connect({ host: 'example.com', port: 443, lookup: guardedLookup });
 * ```
 */
export const guardedLookup: LookupFunction = createGuardedLookup();
