import * as z from 'zod/mini';
import {
  alsoWithFieldErrors,
  credentialsReference,
  credentialText,
  filePath,
  headerValue,
  httpUrl,
  secret,
  textOfScalar,
  type DestinationDefinition,
} from '../../../shared/destination/index.ts';
import { ConnectionStringError, parseConnectionString } from './connection-string.ts';

/** The access tiers a block blob can be written in. */
export const accessTiers = ['Hot', 'Cool', 'Cold', 'Archive'] as const;
export type AccessTier = (typeof accessTiers)[number];

/** The account's root container: blobs in it are addressed without a container name. */
export const rootContainer = '$root';

/** Printable ASCII: what Azure keeps in blob properties and metadata, which travel as HTTP headers. */
const printableAscii = /^[\x20-\x7e]*$/;

// Line breaks are headerValue's to report.
const asciiHeaderValue = headerValue.check(z.refine((value) => /^[\r\n\x20-\x7e]*$/.test(value), 'must be printable ASCII (it travels as an HTTP header)'));

/** 3 to 24 lower-case letters and digits. */
const accountName = z.string().check(z.regex(/^[a-z0-9]{3,24}$/, 'must be the storage account name: 3 to 24 lower-case letters and digits'));

const containerName = z.string().check(
  z.refine(
    (name) => name === rootContainer || name === '$web' || (/^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}$/.test(name)),
    'must be 3 to 63 lower-case letters, digits and single hyphens, starting and ending with a letter or digit (or $root, $web)',
  ),
);

/**
 * The account's access key, as the portal shows it (base64). Only its presence is checked: the
 * seeds' example says "your-storage-key", and a wrong key is refused by the service, which says so.
 */
const accountKey = credentialText(1024).check(z.regex(/^\S+$/, 'must be the storage account access key, without spaces'));

/** A SAS goes into every request's URL, a connection string's parts into URLs and signatures. */
const sasToken = credentialText(4096).check(
  z.refine((token) => !/^https?:/i.test(token), 'must be the token only (the query string after "?"), not a URL'),
  z.refine((token) => /(^|[?&])sig=[^&]+/.test(token) && /(^|[?&])sv=/.test(token), 'must be a shared access signature: a query string with sv=… and sig=…'),
);

const connectionString = credentialText(8192).check(
  z.superRefine((text, context) => {
    try {
      parseConnectionString(text);
    } catch (error) {
      if (!(error instanceof ConnectionStringError)) throw error;
      context.addIssue({ code: 'custom', message: error.message });
    }
  }),
);

/** Metadata names must be C# identifiers (Azure's rule); values are ASCII; 8 KiB in all. */
const blobMetadata = z
  .record(
    z.string().check(z.regex(/^[A-Za-z_][A-Za-z0-9_]{0,255}$/, 'must be a C# identifier (letters, digits and _, not starting with a digit), as Azure requires')),
    z.pipe(textOfScalar, z.string().check(z.maxLength(8192), z.refine((value) => printableAscii.test(value), 'must be printable ASCII'))),
  )
  .check(
    z.superRefine((metadata, context) => {
      const names = Object.keys(metadata);
      const seen = new Set<string>();
      for (const name of names) {
        if (seen.has(name.toLowerCase())) context.addIssue({ code: 'custom', path: [name], message: 'names are case-insensitive in Azure: another name differs only in case' });
        seen.add(name.toLowerCase());
      }
      const bytes = Object.entries(metadata).reduce((sum, [name, value]) => sum + name.length + value.length, 0);
      if (bytes > 8192) context.addIssue({ code: 'custom', message: 'must be at most 8 KiB in total (names and values)' });
    }),
  );

/** Blob index tags: at most 10; keys 1–128, values up to 256 characters of letters, digits, space and + - . / : = _ */
const tagText = /^[A-Za-z0-9 +\-./:=_]*$/;
const blobTags = z
  .record(
    z.string().check(z.minLength(1), z.maxLength(128), z.regex(tagText, 'must use letters, digits, spaces and + - . / : = _ only')),
    z.string().check(z.maxLength(256), z.regex(tagText, 'must use letters, digits, spaces and + - . / : = _ only')),
  )
  .check(z.refine((tags) => Object.keys(tags).length <= 10, 'at most 10 tags'));

/** Accepts `Hot`, `hot`, `HOT`. */
const accessTier = z.pipe(
  z.transform((value: unknown) => (typeof value === 'string' ? accessTiers.find((tier) => tier.toLowerCase() === value.trim().toLowerCase()) ?? value : value)),
  z.enum(accessTiers, { error: `must be one of ${accessTiers.join(', ')}` }),
);

/**
 * Azure drops a dot that ends a segment of a blob name (`take.` is stored as `take`; `.` segments
 * vanish from the URL), so the blob would get another name than the one asked for and answered.
 */
const keepsEveryDot = z.refine<string>(
  // '..' is filePath's to refuse.
  (name) => !name.split('/').some((segment) => segment.endsWith('.') && segment !== '..'),
  "must not have a segment that ends in '.' ('a./b', 'a/./b', 'a/b.'): Azure drops the dot, so the blob would get another name",
);

/** Azure stores a backslash in a blob name as "/" (a .NET URI rule), so the blob would get another name. */
const withoutBackslash = z.refine<string>(
  (name) => !name.includes('\\'),
  "must not contain a backslash: Azure stores it as '/', so the blob would get another name (use '/' for folders)",
);

const blobServiceUrl = httpUrl.check(z.refine((url) => !/[?#]/.test(url), 'must be the Blob service URL without a query (a SAS goes in sas_token)'));

const azureBlobDestinationObject = z.strictObject({
  type: z.literal('azureblob'),
  account: z.optional(accountName).check(z.describe('Storage account name (may come from connection_string instead).')),
  key: secret(z.optional(accountKey).check(z.describe('Storage account access key (secret).'))),
  sas_token: secret(z.optional(sasToken).check(z.describe('Shared access signature, instead of the key (secret).'))),
  connection_string: secret(z.optional(connectionString).check(z.describe('Storage connection string, instead of account, key and endpoint (secret).'))),
  credentials: z.optional(credentialsReference),
  container: z.optional(containerName).check(z.describe('Container name. Default: the root container, $root.')),
  filename: filePath(1024).check(keepsEveryDot, withoutBackslash, z.describe('Blob name. Ending in "/" means "this folder": the source file name is appended.')),
  endpoint: z
    .optional(blobServiceUrl)
    .check(z.describe('Blob service URL (Azurite, sovereign clouds, custom domains). Default: https://<account>.blob.core.windows.net.')),
  contenttype: z.optional(asciiHeaderValue).check(z.describe('Content-Type of the blob. Default: application/octet-stream.')),
  contentdisposition: z.optional(asciiHeaderValue).check(z.describe('Content-Disposition of the blob.')),
  contentencoding: z.optional(asciiHeaderValue).check(z.describe('Content-Encoding of the blob.')),
  contentlanguage: z.optional(asciiHeaderValue).check(z.describe('Content-Language of the blob.')),
  cachecontrol: z.optional(asciiHeaderValue).check(z.describe('Cache-Control of the blob.')),
  metadata: z.optional(blobMetadata).check(z.describe('User metadata, sent as x-ms-meta-* headers.')),
  tags: z.optional(blobTags).check(z.describe('Blob index tags (at most 10).')),
  tier: z.optional(accessTier).check(z.describe("Access tier: Hot, Cool, Cold or Archive. Default: the account's default tier.")),
});

export type AzureBlobDestinationFields = z.output<typeof azureBlobDestinationObject>;

/** Rules between fields, each reported on the field a user has to change. */
function checkFieldCombinations(destination: AzureBlobDestinationFields, context: z.core.$RefinementCtx<AzureBlobDestinationFields>): void {
  const issue = (path: string, message: string): void => {
    context.addIssue({ code: 'custom', path: [path], message });
  };
  const signIns = (['key', 'sas_token', 'connection_string'] as const).filter((field) => destination[field] !== undefined);
  if (signIns.length > 1) issue(signIns[1]!, `cannot be combined with ${signIns[0]}: give one way to sign in`);
  if (signIns.length === 0 && destination.credentials === undefined) {
    issue('key', 'is required (the account access key), unless sas_token, connection_string or credentials (a stored secret) is given');
  }
  const fromConnection = typeof destination.connection_string === 'string' ? safeParse(destination.connection_string) : undefined;
  if (fromConnection !== undefined && destination.endpoint !== undefined) {
    issue('endpoint', 'cannot be combined with connection_string, which names the Blob service itself');
  }
  if (destination.account === undefined && destination.connection_string === undefined && destination.credentials === undefined) {
    issue('account', 'is required (the storage account name)');
  }
  if (fromConnection?.account !== undefined && destination.account !== undefined && fromConnection.account !== destination.account) {
    issue('account', "differs from the connection string's AccountName");
  }
  if (destination.container === undefined && typeof destination.filename === 'string' && destination.filename.replace(/^\//, '').includes('/')) {
    issue('container', `is required when filename has a "/": blobs in the root container (${rootContainer}) cannot contain "/"`);
  }
}

function safeParse(text: string): ReturnType<typeof parseConnectionString> | undefined {
  try {
    return parseConnectionString(text);
  } catch {
    return undefined;
  }
}

export const azureBlobDestinationSchema = azureBlobDestinationObject.check(z.superRefine(checkFieldCombinations, alsoWithFieldErrors));

export const azureBlobDestination: DestinationDefinition<typeof azureBlobDestinationSchema> = {
  type: 'azureblob',
  title: 'Azure Blob Storage (block blobs)',
  schema: azureBlobDestinationSchema,
  endpointsOf: (destination) => {
    const fromConnection = destination.connection_string === undefined ? undefined : safeParse(destination.connection_string)?.endpoint;
    return [
      ...(destination.endpoint ? [{ field: 'endpoint', address: destination.endpoint }] : []),
      ...(fromConnection ? [{ field: 'connection_string', address: fromConnection }] : []),
    ];
  },
  lambda: { memoryMb: 576, timeoutSeconds: 900, maxConcurrency: 50 },
  capabilities: {
    // Only names the blob whose staged blocks a retry continues from: nothing to seal.
    resumable: { sealed: false },
    probe: 'write',
    // 50,000 blocks of 4,000 MiB: the largest block blob.
    maxBytes: 50_000 * 4000 * 1024 * 1024,
  },
};
