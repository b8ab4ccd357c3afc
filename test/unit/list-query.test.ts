import { describe, expect, it } from 'vitest';
import { listQueryOf } from '../../functions/ingress/list-jobs.ts';
import { ValidationError } from '../../shared/errors.ts';

const now = Date.parse('2026-05-10T12:00:00.000Z');

/** A cursor as the listing writes one: where a page ended, a job's creation time and token. */
function cursorAt(createdAt: string, token = 'ud_AzxUFO6LJ0nXgjaQAZ1q'): string {
  return Buffer.from(`${createdAt}#${token}`).toString('base64url');
}

/** The paths `listQueryOf` names for `parameters`, or [] when it takes them. */
function refused(parameters: Record<string, string>): string[] {
  try {
    listQueryOf(parameters, 30, now);
    return [];
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return error.fields.map((field) => field.path);
  }
}

describe('GET /v1/uploads: the query', () => {
  it('reads durations back from now, ISO times, states and a limit', () => {
    const cursor = cursorAt('2026-05-10T11:00:00.000Z');
    expect(listQueryOf({ since: '90m', state: 'failed,partially_failed', limit: '5', cursor }, 30, now)).toEqual({
      since: new Date('2026-05-10T10:30:00.000Z'),
      states: new Set(['failed', 'partially_failed']),
      limit: 5,
      cursor,
    });
    expect(listQueryOf({ since: '2026-05-09T00:00:00Z' }, 30, now).since).toEqual(new Date('2026-05-09T00:00:00.000Z'));
  });

  it('lists the retention window, 20 at a time, when nothing is asked; since is never older than the retention', () => {
    expect(listQueryOf({}, 30, now)).toEqual({ since: new Date('2026-04-10T12:00:00.000Z'), limit: 20 });
    expect(listQueryOf({ since: '400d' }, 30, now).since).toEqual(new Date('2026-04-10T12:00:00.000Z'));
  });

  it('names every offending parameter at once', () => {
    let thrown: unknown;
    try {
      listQueryOf({ since: 'yesterday', state: 'failed,lost', limit: '500' }, 30, now);
    } catch (error) {
      thrown = error;
    }

    expect(thrown).toBeInstanceOf(ValidationError);
    expect((thrown as ValidationError).fields.map((field) => field.path)).toEqual(['since', 'state', 'limit']);
  });
});

describe('GET /v1/uploads: a since beyond any date', () => {
  it.each(['1000000000d', '9'.repeat(30) + 's'])('names since, not the cursor, for since=%s', (since) => {
    let thrown: unknown;
    try {
      listQueryOf({ since }, 30, now);
    } catch (error) {
      thrown = error;
    }

    expect(thrown).toBeInstanceOf(ValidationError);
    expect((thrown as ValidationError).fields.map((field) => field.path)).toEqual(['since']);
  });
});

describe('GET /v1/uploads: a limit', () => {
  it.each(['1', '20', '100', '007'])('takes %s, written in decimal digits', (limit) => {
    expect(listQueryOf({ limit }, 30, now).limit).toBe(Number(limit));
  });

  // Number() reads each of these as a count; none is one a caller writes.
  it.each(['0x10', ' 5', '5 ', '1e1', '5.0', '+5', '-1', '0', '101', '', '0b11', 'Infinity'])('refuses %j, naming limit', (limit) => {
    expect(refused({ limit })).toEqual(['limit']);
  });
});

describe('GET /v1/uploads: a cursor', () => {
  it('takes one the listing could have given: no later than now, a few minutes of clock skew allowed, older than since too (a relative since moves on between pages)', () => {
    for (const createdAt of ['2026-05-10T11:59:59.999Z', '2026-04-10T12:00:00.000Z', '2026-05-10T12:04:00.000Z', '2026-05-10T09:00:00.000Z']) {
      expect(refused({ cursor: cursorAt(createdAt) })).toEqual([]);
    }
  });

  it.each([
    ['far in the future, which walked every month back from it until the function timed out', cursorAt('9999-12-31T23:59:59.999Z')],
    ['an hour ahead of now', cursorAt('2026-05-10T13:00:00.000Z')],
    ['a date that is none', cursorAt('2026-02-30T00:00:00.000Z')],
    ['a time not written as the listing writes it', cursorAt('2026-05-10T11:00:00Z')],
    ['without a token', cursorAt('2026-05-10T11:00:00.000Z', '')],
    ['a token with a quote', cursorAt('2026-05-10T11:00:00.000Z', "ud_a'b")],
    ['base64 padded and not base64url', `${Buffer.from('2026-05-10T11:00:00.000Z#ud_a').toString('base64')}==`],
    ['with characters base64url decoding skips', `${cursorAt('2026-05-10T11:00:00.000Z')}!!`],
    ['not base64url at all', 'bm90IGEgY3Vyc29y'],
  ])('refuses one %s, naming cursor', (_case, cursor) => {
    expect(refused({ since: '2h', cursor })).toEqual(['cursor']);
  });

  it('names every offending parameter at once, the cursor among them', () => {
    expect(refused({ limit: '0x10', cursor: cursorAt('9999-12-31T23:59:59.999Z') })).toEqual(['limit', 'cursor']);
  });
});
