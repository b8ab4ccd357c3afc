import { describe, expect, it } from 'vitest';
import { httpDestination } from '../../functions/destinations/http/schema.ts';
import { classifyGeneric } from '../../shared/delivery/classify.ts';
import { checkEndpoints, retryDelaySeconds } from '../../shared/delivery/runner.ts';
import { describeError, PermanentError, TransientError } from '../../shared/errors.ts';
import { jobState, type DestinationRecord } from '../../shared/jobs/records.ts';
import { outboundNetwork } from '../../shared/net/outbound-network.ts';
import { redactUrl, urlHoldsSecrets } from '../../shared/net/redact.ts';

describe('retry delays', () => {
  it('doubles from the base with jitter and stops at 15 minutes', () => {
    expect(retryDelaySeconds(1, 10, () => 0)).toBe(5);
    expect(retryDelaySeconds(1, 10, () => 1)).toBe(10);
    expect(retryDelaySeconds(3, 10, () => 1)).toBe(40);
    expect(retryDelaySeconds(20, 10, () => 1)).toBe(900);
  });
});

describe('error classification', () => {
  it.each([
    [Object.assign(new Error('reset'), { code: 'ECONNRESET' }), undefined, TransientError],
    [new Error('wrapped', { cause: Object.assign(new Error('x'), { code: 'ETIMEDOUT' }) }), undefined, TransientError],
    [new Error('busy'), 503, TransientError],
    [new Error('slow down'), 429, TransientError],
    [new Error('not found'), 404, PermanentError],
    [new Error('forbidden'), 403, PermanentError],
    [new Error('a bug'), undefined, TransientError],
  ])('classifies %s (HTTP %s) as %o', (error, status, kind) => {
    expect(classifyGeneric(error, status)).toBeInstanceOf(kind);
  });

  it('keeps the original error as the cause', () => {
    const original = new Error('boom');

    expect(classifyGeneric(original, 500).cause).toBe(original);
  });
});

describe('job state', () => {
  it.each([
    [['queued', 'queued'], 'queued'],
    [['uploading', 'queued'], 'in_progress'],
    [['succeeded', 'retrying'], 'in_progress'],
    [['succeeded', 'succeeded'], 'succeeded'],
    [['failed'], 'failed'],
    [['succeeded', 'failed'], 'partially_failed'],
  ] as const)('of %j is %s', (states, expected) => {
    expect(jobState({ enqueued: true, destinations: states.map((state) => ({ state }) as DestinationRecord) })).toBe(expected);
  });

  it('is awaiting_source until a presigned upload lands, and rejected when refused', () => {
    expect(jobState({ enqueued: false, awaitingSource: true, destinations: [] })).toBe('awaiting_source');
    expect(jobState({ enqueued: false, rejected: { errors: [] }, destinations: [] })).toBe('rejected');
  });
});

describe('URL redaction', () => {
  it('drops user info and query, which may hold credentials', () => {
    expect(redactUrl('https://user:pass@cdn.example.com/a.mp4?X-Amz-Signature=abc')).toBe('https://cdn.example.com/a.mp4?…');
    expect(redactUrl('https://cdn.example.com/a.mp4')).toBe('https://cdn.example.com/a.mp4');
  });

  it.each([
    ['https://hooks.slack.com/services/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', 'https://hooks.slack.com/services/T0AB12CD3/B0EF45GH6/…'],
    ['https://discord.com/api/webhooks/123456789012345678/abcDEF-ghi_JKL0123456789mnoPQR', 'https://discord.com/api/webhooks/123456789012345678/…'],
    ['https://maker.ifttt.com/trigger/render_done/with/key/dX9fQ2kLm3Np8Rs7Tv6Wx', 'https://maker.ifttt.com/trigger/render_done/with/key/…'],
  ])('hides a path segment that looks like a token: %s', (url, shown) => {
    expect(redactUrl(url)).toBe(shown);
    expect(urlHoldsSecrets(url)).toBe(true);
  });

  it.each([
    'https://uploads.example.com/renders/2026/11/final-cut-0042.mp4',
    'https://dav.example.com/remote.php/dav/files/me/videos/',
    'https://api.example.com/v1/incoming-video-webhook/123456789012345678901',
    'sftp://files.example.com:2222/in/',
  ])('keeps a path of names, numbers and file names: %s', (url) => {
    expect(redactUrl(url)).toBe(url);
    expect(urlHoldsSecrets(url)).toBe(false);
  });
});

describe('endpoint checks', () => {
  it.each(['a b', "'a'", '"a"', '<a>'])('refuse an endpoint on a private network naming its host, not its query (even one written with %s in it)', (written) => {
    // A url as a queue message may carry it, not as URL writes it: the message need not have come through the ingress.
    const url = `http://10.0.0.7/upload?note=${written}&sig=presigned-signature-1234`;
    let refusal: unknown;

    try {
      checkEndpoints(httpDestination, { url }, outboundNetwork({ allowPrivateNetworks: false }));
    } catch (error) {
      refusal = error;
    }

    // The url is no secret field: the recorded reason is as safe as describeError makes it.
    expect(refusal).toBeInstanceOf(PermanentError);
    expect(describeError(refusal)).not.toContain('presigned-signature-1234');
    expect(describeError(refusal)).toContain("'10.0.0.7'");
  });
});
