import * as z from 'zod/mini';
import {
  alsoWithFieldErrors,
  credentialsReference,
  credentialText,
  filePath,
  namesAFile,
  namesWithinBytes,
  secret,
  withoutControlCharacters,
  type DestinationDefinition,
} from '../../../shared/destination/index.ts';
import { ftpHostProblem, hostAsEndpoint, parseFtpHost, type FtpSecurity } from './address.ts';
import { fingerprintPattern, normalizeFingerprint } from './certificate.ts';

const security = z.pipe(
  z.union([z.boolean(), z.enum(['explicit', 'implicit'])], { error: 'must be false, "explicit" or "implicit"' }),
  // basic-ftp and most clients spell explicit FTPS `true`.
  z.transform((value: boolean | 'explicit' | 'implicit'): FtpSecurity => (value === true ? 'explicit' : value)),
);

const ftpDestinationObject = z.strictObject({
  type: z.literal('ftp'),
  host: z.string().check(
    z.minLength(1, 'must not be empty'),
    z.superRefine((host, context) => {
      const problem = ftpHostProblem(host);
      if (problem) context.addIssue({ code: 'custom', message: problem });
    }),
    z.describe('FTP server host name or IP address, with :port when it is not the default.'),
  ),
  filename: filePath(1024).check(
    namesAFile,
    namesWithinBytes,
    z.describe(
      'Full path of the file on the server (relative paths start in the login folder); missing folders are created. Ending in "/" means "this folder".',
    ),
  ),
  // Both are sent on the control connection (USER, PASS), where a line break would end the command
  // early and make the rest a command of the caller's choosing.
  user: secret(z.optional(credentialText(256)).check(z.describe('FTP user name (secret). Default: anonymous.'))),
  // An empty password is one some servers take for anonymous logins.
  password: secret(z.optional(z.string().check(z.maxLength(1024), withoutControlCharacters)).check(z.describe('FTP password (secret).'))),
  credentials: z.optional(credentialsReference),
  passive: z
    ._default(z.boolean(), false)
    .check(z.describe('Passive mode. Deliveries always use it: a Lambda function cannot accept the connection active mode needs (false adds a note).')),
  epsv: z._default(z.boolean(), false).check(z.describe('Open data connections with EPSV (extended passive) instead of PASV.')),
  port: z
    .optional(z.number().check(z.int('must be a whole number'), z.minimum(1, 'must be 1 to 65535'), z.maximum(65_535, 'must be 1 to 65535')))
    .check(z.describe('Server port. Default: the one in host, else 21 (990 for implicit FTPS).')),
  secure: z
    ._default(security, false)
    .check(z.describe('FTPS: false, "explicit" (AUTH TLS; true means the same) or "implicit" (TLS from the first byte).')),
  certificate_fingerprint: z
    .optional(
      z.pipe(
        z.string().check(z.regex(fingerprintPattern, 'must be a SHA-256 fingerprint: 32 hex pairs separated by colons (or 64 hex digits)')),
        z.transform(normalizeFingerprint),
      ),
    )
    .check(z.describe("SHA-256 fingerprint of the server's certificate, to trust a self-signed server instead of a CA.")),
});

export type FtpDestinationFields = z.output<typeof ftpDestinationObject>;

/** Rules between fields, each reported on the field a user has to change. */
function checkFieldCombinations(destination: FtpDestinationFields, context: z.core.$RefinementCtx<FtpDestinationFields>): void {
  const hostPort = typeof destination.host === 'string' && !ftpHostProblem(destination.host) ? parseFtpHost(destination.host).port : undefined;
  if (hostPort !== undefined && typeof destination.port === 'number' && hostPort !== destination.port) {
    context.addIssue({ code: 'custom', path: ['port'], message: `conflicts with the port in host (${hostPort}); give it once` });
  }
  if (destination.certificate_fingerprint !== undefined && !destination.secure) {
    context.addIssue({ code: 'custom', path: ['certificate_fingerprint'], message: 'needs secure "explicit" or "implicit"' });
  }
}

export const ftpDestinationSchema = ftpDestinationObject.check(z.superRefine(checkFieldCombinations, alsoWithFieldErrors));

export const ftpDestination: DestinationDefinition<typeof ftpDestinationSchema> = {
  type: 'ftp',
  title: 'An FTP or FTPS server',
  schema: ftpDestinationSchema,
  endpointsOf: (destination) => [{ field: 'host', address: hostAsEndpoint(destination.host) }],
  lambda: { memoryMb: 256, timeoutSeconds: 900, maxConcurrency: 25 },
  capabilities: {
    // The temporary file's path: useless without the server's credentials, so kept in clear.
    resumable: { sealed: false },
    probe: 'write',
    pooledConnections: true,
  },
};
