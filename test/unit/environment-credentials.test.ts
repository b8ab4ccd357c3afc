import { afterEach, describe, expect, it, vi } from 'vitest';
import { defaultProvider } from '../../shared/lambda/environment-credentials.ts';

afterEach(() => {
  vi.unstubAllEnvs();
});

function stubKeys(accessKeyId: string, expiration?: Date): void {
  vi.stubEnv('AWS_ACCESS_KEY_ID', accessKeyId);
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', `secret-of-${accessKeyId}`);
  vi.stubEnv('AWS_SESSION_TOKEN', `token-of-${accessKeyId}`);
  vi.stubEnv('AWS_CREDENTIAL_EXPIRATION', expiration?.toISOString() ?? '');
}

describe('defaultProvider (the function bundles’ credential chain)', () => {
  it('reads the role’s keys from the environment once, as the SDK’s chain keeps them', async () => {
    // Prepare
    stubKeys('AKIAFIRST');
    const provider = defaultProvider();

    // Act
    const first = await provider();
    stubKeys('AKIASECOND');
    const second = await provider();

    // Assess
    expect(first).toMatchObject({ accessKeyId: 'AKIAFIRST', secretAccessKey: 'secret-of-AKIAFIRST', sessionToken: 'token-of-AKIAFIRST' });
    expect(second.accessKeyId).toBe('AKIAFIRST');
  });

  it('reads them again when they expire within five minutes', async () => {
    // Prepare
    stubKeys('AKIAFIRST', new Date(Date.now() + 4 * 60_000));
    const provider = defaultProvider();
    await provider();
    stubKeys('AKIASECOND', new Date(Date.now() + 60 * 60_000));

    // Act
    const renewed = await provider();
    stubKeys('AKIATHIRD');
    const kept = await provider();

    // Assess
    expect(renewed.accessKeyId).toBe('AKIASECOND');
    expect(kept.accessKeyId).toBe('AKIASECOND');
  });

  it('does not keep a failed read: keys that appear later are found', async () => {
    // Prepare
    vi.stubEnv('AWS_ACCESS_KEY_ID', '');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', '');
    const provider = defaultProvider();

    // Act
    const missing = provider();
    await missing.catch(() => undefined);
    stubKeys('AKIALATER');

    // Assess
    await expect(missing).rejects.toThrow(/environment variable credentials/);
    expect((await provider()).accessKeyId).toBe('AKIALATER');
  });
});
