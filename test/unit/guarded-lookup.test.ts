import type { LookupAddress, LookupOptions } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { describe, expect, it } from 'vitest';
import { AddressNotAllowedError } from '../../shared/net/address-not-allowed-error.ts';
import { createGuardedLookup } from '../../shared/net/guarded-lookup.ts';

/** A resolver that answers `addresses` for every name, in whichever form it is asked, and records what it was asked. */
function resolverOf(...addresses: string[]): LookupFunction & { readonly asked: { hostname: string; options: LookupOptions }[] } {
  const asked: { hostname: string; options: LookupOptions }[] = [];
  const resolve: LookupFunction = (hostname, options, callback) => {
    asked.push({ hostname, options });
    const answers = addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    if (options.all) callback(null, answers);
    else callback(null, answers[0]?.address ?? '', answers[0]?.family);
  };
  return Object.assign(resolve, { asked });
}

interface Answer {
  readonly error: NodeJS.ErrnoException | null;
  readonly address: string | LookupAddress[];
  readonly family?: number;
}

/** Calls `lookup` the way `net.connect` does and collects its answer. */
function ask(lookup: LookupFunction, hostname: string, options: LookupOptions): Promise<Answer> {
  return new Promise((resolve) => lookup(hostname, options, (error, address, family) => resolve({ error, address, family })));
}

describe('Function: createGuardedLookup', () => {
  it('answers every address when asked for all of them and none is refused', async () => {
    // Prepare
    const lookup = createGuardedLookup(resolverOf('93.184.215.14', '2606:4700::1111'));

    // Act
    const answer = await ask(lookup, 'example.com', { all: true });

    // Assess
    expect(answer).toEqual({
      error: null,
      address: [
        { address: '93.184.215.14', family: 4 },
        { address: '2606:4700::1111', family: 6 },
      ],
      family: undefined,
    });
  });

  it('answers the first address when asked for one, after checking them all', async () => {
    // Prepare
    const resolve = resolverOf('93.184.215.14', '2606:4700::1111');
    const lookup = createGuardedLookup(resolve);

    // Act
    const answer = await ask(lookup, 'example.com', { family: 0 });

    // Assess
    expect(answer).toEqual({ error: null, address: '93.184.215.14', family: 4 });
    expect(resolve.asked).toEqual([{ hostname: 'example.com', options: { family: 0, all: true } }]);
  });

  it.each([
    [['127.0.0.1'], '127.0.0.1'],
    [['93.184.215.14', '10.0.0.7'], '10.0.0.7'],
    [['2606:4700::1111', '::ffff:169.254.169.254'], '::ffff:169.254.169.254'],
    [['fd00:ec2::254'], 'fd00:ec2::254'],
  ])('refuses when any of %j is refused (%s)', async (addresses, refused) => {
    // Prepare
    const lookup = createGuardedLookup(resolverOf(...addresses));

    // Act
    const answer = await ask(lookup, 'mixed.test', { all: true });

    // Assess
    expect(answer.error).toBeInstanceOf(AddressNotAllowedError);
    expect(answer.error).toMatchObject({ code: 'EADDRNOTALLOWED', host: 'mixed.test', address: refused });
    expect(answer.error?.message).toContain(`'mixed.test' (resolved to ${refused}) refused`);
  });

  it.each(['localhost', 'api.localhost', '127.1', '2130706433', 'example.com.'])('refuses the name %s without asking the resolver', async (hostname) => {
    // Prepare
    const resolve = resolverOf('93.184.215.14');
    const lookup = createGuardedLookup(resolve);

    // Act
    const answer = await ask(lookup, hostname, { all: true });

    // Assess
    expect(answer.error).toBeInstanceOf(AddressNotAllowedError);
    expect(resolve.asked).toEqual([]);
  });

  it('refuses an answer that is not an IP address', async () => {
    const lookup = createGuardedLookup(resolverOf('not-an-address'));

    const answer = await ask(lookup, 'odd.test', { all: true });

    expect(answer.error).toBeInstanceOf(AddressNotAllowedError);
  });

  it("passes the resolver's own failure through", async () => {
    // Prepare
    const notFound = Object.assign(new Error('getaddrinfo ENOTFOUND nowhere.test'), { code: 'ENOTFOUND' });
    const lookup = createGuardedLookup((_hostname, _options, callback) => callback(notFound, ''));

    // Act
    const answer = await ask(lookup, 'nowhere.test', { all: true });

    // Assess
    expect(answer.error).toBe(notFound);
  });

  it('fails as not found when the resolver answers no address', async () => {
    const lookup = createGuardedLookup(resolverOf());

    const answer = await ask(lookup, 'empty.test', {});

    expect(answer.error).toMatchObject({ code: 'ENOTFOUND' });
  });

  it("takes dns.lookup's other call forms: a family number, or no options", async () => {
    // Prepare
    const lookup = createGuardedLookup(resolverOf('127.0.0.1')) as unknown as (hostname: string, ...rest: unknown[]) => void;

    // Act
    const withFamily = await new Promise<unknown>((resolve) => lookup('family.test', 4, (error: unknown) => resolve(error)));
    const withoutOptions = await new Promise<unknown>((resolve) => lookup('bare.test', (error: unknown) => resolve(error)));

    // Assess
    expect(withFamily).toBeInstanceOf(AddressNotAllowedError);
    expect(withoutOptions).toBeInstanceOf(AddressNotAllowedError);
  });
});
