import type { StoredCredentials } from '../../shared/destination/uploader.ts';
import { dropboxDestinationSchema, type DropboxDestinationFields } from '../../functions/destinations/dropbox/schema.ts';
import { dropboxUploader, type DropboxUploaderSettings } from '../../functions/destinations/dropbox/upload.ts';
import { type DropboxFake, dropboxScopes } from '../fakes/dropbox.ts';

/** Chunks of 4 MiB (Dropbox's smallest) keep the tests' files small while taking the session path. */
export const testChunkBytes = 4 * 1024 * 1024;

/** An access token the fake accepts with every scope the destination uses. */
export const dropboxTestToken = 'dropbox-test-token';

/** Grants the test token on a fresh fake. */
export function grantTestToken(fake: DropboxFake, token = dropboxTestToken, scopes: readonly string[] = Object.values(dropboxScopes)): void {
  fake.tokens.grantAccess(token, { scopes });
}

/**
 * The uploader pointed at the fake, with small chunks and no waits between tries. The fake may be
 * given late (`() => fake`): a suite that makes its uploader before its servers start.
 */
export function uploaderFor(fake: DropboxFake | (() => DropboxFake), settings: Partial<DropboxUploaderSettings> = {}) {
  const current = typeof fake === 'function' ? fake : () => fake;
  return dropboxUploader({
    endpoints: {
      get api() {
        return current().url;
      },
      get content() {
        return current().url;
      },
    },
    chunkBytes: testChunkBytes,
    retry: { delaysMs: [0, 0], maxRetryAfterSeconds: 2 },
    ...settings,
  });
}

/** A destination as a request gives it, validated, with the test token inline. */
export function dropboxFields(filename: string, overrides: Record<string, unknown> = {}): DropboxDestinationFields {
  return dropboxDestinationSchema.parse({ type: 'dropbox', filename, oauth_token: dropboxTestToken, ...overrides });
}

/** Sessions that still hold bytes a delivery may continue: neither committed, closed nor expired. */
export function openSessions(fake: DropboxFake): string[] {
  return [...fake.sessions.values()].filter((session) => !session.finishedAs && !session.closed && !session.expired).map((session) => session.id);
}

/**
 * Upload body bytes the fake received for `path`: those of the sessions committed there and of
 * every open session (a resumed or abandoned one), so bytes sent twice show. Closed sessions were
 * discarded by other deliveries.
 */
export function bytesReceivedFor(fake: DropboxFake, path: string): number {
  const lower = path.toLowerCase();
  return [...fake.sessions.values()]
    .filter((session) => (session.finishedAs ? session.finishedAs.pathLower === lower : !session.closed))
    .reduce((sum, session) => sum + session.bytes.bytesReceived, 0);
}

/** The deployment's Dropbox app, as `application/dropbox` holds it, and as the fake knows it. */
export const testApp = { app_key: 'test-app-key', app_secret: 'test-app-secret' } as const;

/** Stored credentials in memory (`credentials/<name>`), recording what a delivery writes back. */
export class MemoryCredentials implements StoredCredentials {
  readonly reference = undefined;
  readonly secrets = new Map<string, Record<string, unknown>>();
  readonly updates: { reference: string; fields: Readonly<Record<string, string>> }[] = [];

  async read(reference: string): Promise<Readonly<Record<string, unknown>>> {
    const secret = this.secrets.get(reference);
    if (!secret) throw new Error(`no stored secret '${reference}'`);
    return secret;
  }

  async update(reference: string, fields: Readonly<Record<string, string>>): Promise<void> {
    this.updates.push({ reference, fields });
    this.secrets.set(reference, { ...this.secrets.get(reference), ...fields });
  }
}
