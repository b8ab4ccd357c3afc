import { describe, expect, it } from 'vitest';
import { classifyYouTubeError, GoogleApiError, OAuthTokenError } from '../../functions/destinations/youtube/errors.ts';
import { nextPacificMidnight } from '../../functions/destinations/youtube/quota.ts';
import { PermanentError, TransientError, WaitError } from '../../shared/errors.ts';

describe('nextPacificMidnight', () => {
  it.each([
    ['a summer afternoon (PDT, UTC-7)', '2026-07-15T20:00:00Z', '2026-07-16T07:00:00.000Z'],
    ['a winter afternoon (PST, UTC-8)', '2026-01-15T20:00:00Z', '2026-01-16T08:00:00.000Z'],
    ['the evening before the clocks spring forward', '2026-03-08T07:30:00Z', '2026-03-08T08:00:00.000Z'],
    ['the morning the clocks sprang forward', '2026-03-08T12:00:00Z', '2026-03-09T07:00:00.000Z'],
    ['the evening before the clocks fall back', '2026-11-01T06:30:00Z', '2026-11-01T07:00:00.000Z'],
    ['the morning the clocks fell back', '2026-11-01T12:00:00Z', '2026-11-02T08:00:00.000Z'],
    ['midnight itself (the next one)', '2026-07-16T07:00:00Z', '2026-07-17T07:00:00.000Z'],
    ['the last day of the year', '2026-12-31T20:00:00Z', '2027-01-01T08:00:00.000Z'],
  ])('is the next midnight in Los Angeles on %s', (_case, now, expected) => {
    expect(nextPacificMidnight(new Date(now)).toISOString()).toBe(expected);
  });
});

describe('classifyYouTubeError', () => {
  const now = new Date('2026-07-15T20:00:00Z');
  const apiError = (status: number, reason: string, operation: 'videos.insert' | 'upload' = 'videos.insert', retryAfter: string | null = null) =>
    new GoogleApiError(operation, status, reason, 'youtube.quota', 'message', retryAfter);

  it.each([
    ['quotaExceeded', 403],
    ['uploadLimitExceeded', 400],
    ['dailyLimitExceeded', 403],
  ])('waits until midnight Pacific on %s, keeping the cause', (reason, status) => {
    const error = apiError(status, reason);

    const classified = classifyYouTubeError(error, now);

    expect(classified).toBeInstanceOf(WaitError);
    expect((classified as WaitError).until.toISOString()).toBe('2026-07-16T07:00:00.000Z');
    expect(classified.cause).toBe(error);
  });

  it('waits briefly on rateLimitExceeded, as long as Retry-After says when it does', () => {
    const plain = classifyYouTubeError(apiError(403, 'rateLimitExceeded'), now) as WaitError;
    const hinted = classifyYouTubeError(apiError(429, 'rateLimitExceeded', 'videos.insert', '7'), now) as WaitError;

    expect(plain).toBeInstanceOf(WaitError);
    expect(plain.until.getTime() - now.getTime()).toBe(60_000);
    expect(hinted.until.getTime() - now.getTime()).toBe(7_000);
  });

  it.each([
    [401, 'authError', 'InvalidCredentials'],
    [403, 'insufficientPermissions', 'InsufficientScope'],
    [400, 'invalidTitle', 'invalidTitle'],
    [400, 'invalidCategoryId', 'invalidCategoryId'],
    [404, 'playlistNotFound', 'playlistNotFound'],
    [403, 'forbidden', 'forbidden'],
  ])('fails permanently on HTTP %i %s', (status, reason, code) => {
    const classified = classifyYouTubeError(apiError(status, reason), now);

    expect(classified).toBeInstanceOf(PermanentError);
    expect(classified.code).toBe(code);
  });

  it('retries an expired session (the next attempt starts a new one) and a 5xx', () => {
    expect(classifyYouTubeError(apiError(404, 'notFound', 'upload'), now)).toMatchObject({ code: 'SessionExpired', retryable: true });
    expect(classifyYouTubeError(apiError(503, 'backendError'), now)).toBeInstanceOf(TransientError);
  });

  it('fails permanently on invalid_grant, naming the command that fixes it and no token', () => {
    const classified = classifyYouTubeError(new OAuthTokenError(400, 'invalid_grant', 'operator', 'Token has been expired or revoked.'), now);

    expect(classified).toBeInstanceOf(PermanentError);
    expect(classified.message).toContain('npm run authorize -- youtube operator');
  });

  it('retries a token endpoint that fails with a 5xx', () => {
    expect(classifyYouTubeError(new OAuthTokenError(503, '', 'operator', ''), now)).toBeInstanceOf(TransientError);
  });
});
