import { isIP } from 'node:net';
import * as z from 'zod/mini';
import {
  alsoWithFieldErrors,
  credentialsReference,
  credentialText,
  filePath,
  namesAFile,
  namesWithinBytes,
  notSecret,
  secret,
  type DestinationDefinition,
} from '../../../shared/destination/index.ts';

/** A host name or an IP address (IPv6 with or without brackets), without scheme, port or path. */
const hostName = z
  .pipe(
    z.string().check(z.trim(), z.minLength(1, 'must not be empty'), z.maxLength(253)),
    z.transform((host: string) => host.replace(/^\[(.*)\]$/, '$1')),
  )
  .check(
    z.refine(
      (host) => isIP(host) !== 0 || /^(?=.*[A-Za-z0-9])[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.?$/.test(host),
      'must be a host name or IP address, without scheme, port or path (give the port in port)',
    ),
  );

/** `SHA256:` and the unpadded base64 of a SHA-256, as `ssh-keygen -l` prints it; padding is dropped. */
const hostKeyFingerprint = z.pipe(
  z
    .string()
    .check(
      z.trim(),
      z.regex(/^SHA256:[A-Za-z0-9+/]{43}=?$/, "must be a SHA-256 fingerprint as 'ssh-keygen -l' prints it: SHA256: and 43 base64 characters"),
    ),
  z.transform((fingerprint: string) => fingerprint.replace(/=$/, '')),
);

/** What OpenSSH, PuTTY's export and OpenSSL write a private key as. */
const privateKeyText = z
  .string()
  .check(
    // Twice what an RSA key of 16,384 bits (the largest ssh-keygen makes) takes in either format.
    z.maxLength(32_768, 'must be at most 32768 characters'),
    z.regex(/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/, 'must be a private key in OpenSSH or PEM format (-----BEGIN … PRIVATE KEY-----)'),
  );

const sftpDestinationObject = z.strictObject({
  type: z.literal('sftp'),
  host: hostName.check(z.describe('SFTP server host name or IP address.')),
  port: z
    ._default(
      z
        .number({ error: 'must be a number' })
        .check(
          z.int('must be a whole number'),
          z.minimum(1, 'must be a port number from 1 to 65535'),
          z.maximum(65535, 'must be a port number from 1 to 65535'),
        ),
      22,
    )
    .check(z.describe('SSH port. Default: 22.')),
  user: credentialText(256).check(z.describe('User name to log in as.')),
  password: secret(z.optional(credentialText(1024)).check(z.describe('Password of the user (secret).'))),
  private_key: secret(z.optional(privateKeyText).check(z.describe('Private key in OpenSSH or PEM format (secret).'))),
  passphrase: secret(
    z.optional(credentialText(1024)).check(z.describe('Passphrase of an encrypted private_key (secret).')),
  ),
  credentials: z.optional(credentialsReference),
  filename: filePath(4096).check(
    namesAFile,
    namesWithinBytes,
    z.describe(
      'Full path of the file on the server (relative paths start in the login folder). Missing folders are created. Ending in "/" means "this folder": the source file name is appended.',
    ),
  ),
  host_key: notSecret(
    z
      .optional(hostKeyFingerprint)
      .check(z.describe("The server's host key fingerprint (SHA256:…, as ssh-keygen -l prints it); the upload fails if the server shows another.")),
    "a fingerprint of the server's public host key; it proves who the server is and gives no access",
  ),
});

export type SftpDestinationFields = z.output<typeof sftpDestinationObject>;

/** How a deployment checks SFTP servers. */
export interface SftpRules {
  /**
   * Refuse destinations without `host_key`, so no upload goes to a server whose identity was not
   * pinned. Without it a delivery records the fingerprint it saw, to be pinned from then on.
   * @default false
   */
  readonly requireHostKey: boolean;
}

/**
 * This deployment's rules. Set `requireHostKey: true` here to make `host_key` required: the
 * ingress and the SFTP function both read this schema, so requests without a pinned key are then
 * answered 400 and never queued.
 */
export const sftpRules: SftpRules = { requireHostKey: false };

/** Rules between fields, each reported on the field a user has to change. */
function fieldCombinations(rules: SftpRules) {
  return (destination: SftpDestinationFields, context: z.core.$RefinementCtx<SftpDestinationFields>): void => {
    const issue = (path: string, message: string): void => {
      context.addIssue({ code: 'custom', path: [path], message });
    };
    const stored = destination.credentials !== undefined;
    if (destination.password === undefined && destination.private_key === undefined && !stored) {
      issue('password', 'is required unless private_key is given or credentials names a stored secret holding one of them');
    }
    if (destination.passphrase !== undefined && destination.private_key === undefined && !stored) {
      issue('passphrase', 'needs private_key (the key it decrypts)');
    }
    if (rules.requireHostKey && destination.host_key === undefined) {
      issue('host_key', "is required by this deployment: give the server's fingerprint (ssh-keygen -l -E sha256 -f <host key>.pub prints it)");
    }
  };
}

/** The `destination` object of an SFTP delivery under `rules`. */
export function sftpDestinationSchemaWith(rules: SftpRules) {
  return sftpDestinationObject.check(z.superRefine(fieldCombinations(rules), alsoWithFieldErrors));
}

export const sftpDestinationSchema = sftpDestinationSchemaWith(sftpRules);

/** `host` as a URL authority part: IPv6 addresses in brackets. */
export function authorityOf(destination: Pick<SftpDestinationFields, 'host' | 'port'>): string {
  const host = isIP(destination.host) === 6 ? `[${destination.host}]` : destination.host;
  return `${host}:${destination.port}`;
}

export const sftpDestination: DestinationDefinition<typeof sftpDestinationSchema> = {
  type: 'sftp',
  title: 'An SFTP server (SSH File Transfer Protocol)',
  schema: sftpDestinationSchema,
  endpointsOf: (destination) => [{ field: 'host', address: `sftp://${authorityOf(destination)}` }],
  lambda: { memoryMb: 640, timeoutSeconds: 900, maxConcurrency: 50 },
  capabilities: {
    // The temporary file's path: useless without the server's credentials, so kept in clear.
    resumable: { sealed: false },
    probe: 'write',
  },
};
