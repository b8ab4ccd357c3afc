import { describe, expect, it } from 'vitest';
import { Faults } from './faults.ts';

describe('Class: Faults', () => {
  it('serves an armed failure only to its endpoint, as many times as armed', () => {
    const faults = new Faults();
    faults.failNext({ times: 2, status: 500, endpoint: 'upload' });

    const taken = [faults.takeFailure('token'), faults.takeFailure('upload'), faults.takeFailure('upload'), faults.takeFailure('upload')];

    expect(taken).toEqual([undefined, { status: 500 }, { status: 500 }, undefined]);
  });

  it('serves faults in the order armed, an unaimed one to any endpoint', () => {
    const faults = new Faults();
    faults.throttleNext({ retryAfterSeconds: 5 });
    faults.failNext({ status: 503 });

    expect([faults.takeFailure('a'), faults.takeFailure('b'), faults.takeFailure('c')]).toEqual([{ status: 429, retryAfterSeconds: 5 }, { status: 503 }, undefined]);
  });

  it('disarms everything on clear', () => {
    const faults = new Faults();
    faults.dropConnectionAfter(10);
    faults.loseNextAnswer();
    faults.failNext();

    faults.clear();

    expect([faults.takeDrop('x'), faults.takeLostAnswer('x'), faults.takeFailure('x')]).toEqual([undefined, false, undefined]);
  });
});
