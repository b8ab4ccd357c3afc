import { describe, expect, it } from 'vitest';
import { listQueryOf } from '../../functions/ingress/list-jobs.ts';
import { ValidationError } from '../../shared/errors.ts';

const now = Date.parse('2026-05-10T12:00:00.000Z');

describe('GET /v1/uploads: the query', () => {
  it('reads durations back from now, ISO times, states and a limit', () => {
    expect(listQueryOf({ since: '90m', state: 'failed,partially_failed', limit: '5', cursor: 'abc' }, 30, now)).toEqual({
      since: new Date('2026-05-10T10:30:00.000Z'),
      states: new Set(['failed', 'partially_failed']),
      limit: 5,
      cursor: 'abc',
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
