import { describe, expect, it } from 'vitest';
import { peakConcurrentUploads, type Interval } from './fault-destination.ts';

interface Request extends Interval {
  readonly upload: string;
}

function request(upload: string, startedAt: number, endedAt: number, more: Partial<Interval> = {}): Request {
  return { upload, startedAt, endedAt, stalledAt: undefined, clientGoneAt: undefined, ...more };
}

describe('Function: peakConcurrentUploads', () => {
  it('counts the parts of one upload in flight together once, and a request that ends as another starts as no overlap', () => {
    const requests = [request('a', 0, 10), request('a', 5, 15), request('b', 15, 20), request('c', 12, 14)];

    expect(peakConcurrentUploads(requests, (each) => each.upload)).toEqual({ peak: 2, uploads: ['a', 'c'] });
  });

  it('ends a request when it stalled or when its client was gone, whichever came first, though the server held it open longer', () => {
    const requests = [
      request('dead', 0, 100, { clientGoneAt: 10 }),
      request('next', 20, 40),
      request('stalled', 50, 100, { stalledAt: 60, clientGoneAt: 70 }),
      request('after', 65, 80),
    ];

    expect(peakConcurrentUploads(requests, (each) => each.upload)).toEqual({ peak: 1, uploads: ['dead'] });
  });

  it('counts a request with no end yet as open now, and skips what is no upload', () => {
    const requests = [{ upload: 'open', startedAt: 0, endedAt: undefined, stalledAt: undefined, clientGoneAt: undefined }, request('later', Date.now() - 5, Date.now() - 1), request('', 0, 1)];

    expect(peakConcurrentUploads(requests, (each) => each.upload || undefined)).toEqual({ peak: 2, uploads: ['open', 'later'] });
  });
});
