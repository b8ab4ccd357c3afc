import * as z from 'zod/mini';
import { alsoWithFieldErrors, credentialsReference, credentialText, filePath, secret, type DestinationDefinition } from '../../../shared/destination/index.ts';

/** Write modes of Dropbox's `CommitInfo`: `add` never replaces a file, `overwrite` always does. */
export const dropboxWriteModes = ['add', 'overwrite'] as const;

/** The largest file an upload session builds (Dropbox: 350 GB; taken as GiB, as the SDKs compute "MB"). */
export const dropboxMaxFileBytes = 350 * 1024 ** 3;

/**
 * Dropbox answers malformed_path to a path with a `.` segment or a segment that ends in a space,
 * but only once an upload's bytes have been sent: refused before, naming the field.
 */
const dropboxPathSegments = z.refine<string>(
  (path) => !path.split('/').some((segment) => segment === '.' || segment.endsWith(' ')),
  "must not have a '.' segment or a segment that ends in a space: Dropbox refuses such paths (malformed_path)",
);

const dropboxDestinationObject = z.strictObject({
  type: z.literal('dropbox'),
  filename: filePath(1024).check(
    dropboxPathSegments,
    z.describe(
      'Path and file name in Dropbox ("Videos/welcome.mp4"; a leading "/" is optional). Ending in "/" means "this folder": the source file name is appended.',
    ),
  ),
  oauth_token: secret(
    z
      .optional(credentialText(4096, { inHeader: true }).check(z.refine((token) => !token.includes(' '), 'must be an access token, without spaces')))
      .check(z.describe('Dropbox OAuth 2.0 access token with the files.content.write scope (secret).')),
  ),
  auth_secret: secret(
    z
      .optional(credentialsReference)
      .check(z.describe("Name of a stored secret (credentials/<name>) holding a refresh token of the deployment's Dropbox app (secret).")),
  ),
  mode: z
    ._default(z.enum(dropboxWriteModes, { error: `must be one of ${dropboxWriteModes.join(', ')}` }), 'add')
    .check(z.describe('add: never replace a file already there (fails, or renames with autorename); overwrite: replace it.')),
  autorename: z._default(z.boolean(), false).check(z.describe('When a different file is already there, store this one as "name (1).ext" instead of failing.')),
  shared_link: z
    ._default(z.boolean(), false)
    .check(z.describe("Create (or reuse) a shared link to the file and answer it as the upload's URL (needs sharing.write).")),
});

export type DropboxDestinationFields = z.output<typeof dropboxDestinationObject>;

/** Exactly one way to authorize, reported on the field to change. */
function checkFieldCombinations(destination: DropboxDestinationFields, context: z.core.$RefinementCtx<DropboxDestinationFields>): void {
  const hasToken = destination.oauth_token !== undefined;
  const hasSecret = destination.auth_secret !== undefined;
  if (hasToken && hasSecret) {
    context.addIssue({ code: 'custom', path: ['auth_secret'], message: 'cannot be combined with oauth_token; give one of them' });
  }
  if (!hasToken && !hasSecret) {
    context.addIssue({ code: 'custom', path: ['oauth_token'], message: 'is required unless auth_secret names a stored refresh token' });
  }
}

export const dropboxDestinationSchema = dropboxDestinationObject.check(z.superRefine(checkFieldCombinations, alsoWithFieldErrors));

export const dropboxDestination: DestinationDefinition<typeof dropboxDestinationSchema> = {
  type: 'dropbox',
  title: 'Dropbox',
  schema: dropboxDestinationSchema,
  // Dropbox's own hosts only: no field names a place to connect to.
  endpointsOf: () => [],
  // Two chunks in memory (the one sent, the one read); the memory also buys the CPU that hashes them.
  lambda: { memoryMb: 448, timeoutSeconds: 900, maxConcurrency: 20 },
  capabilities: {
    // The upload session id: Dropbox takes bytes for it only with an access token of the same
    // account and app, which the resume state does not hold; kept in clear, like S3's upload id.
    resumable: { sealed: false },
    probe: 'write',
    maxBytes: dropboxMaxFileBytes,
    // Dropbox's refresh tokens are long-lived today; should its token endpoint ever answer a new
    // one, it is written back to the stored secret, so the next delivery still works.
    writableCredentials: true,
  },
  applicationSecret: {
    fields: ['app_key', 'app_secret'],
    description: "The deployment's Dropbox app (App Console: scoped access), whose refresh tokens auth_secret names.",
  },
};
