import type * as z from 'zod/mini';

/** The Lambda sizing of one destination's function; the stack reads it from the registry. */
export interface DestinationLambdaSettings {
  /**
   * Memory, and with it the CPU share (1,769 MB = 1 vCPU): as `npm run bench`'s Lambda model
   * recommends for the destination (enough CPU for its upload to keep up with the network, and
   * room for its peak memory); the figures are in test/bench/README.md, "Lambda memory".
   */
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  /** How many of this destination's functions may run at once (protects provider quotas). */
  readonly maxConcurrency: number;
}

/**
 * What a destination can do beyond `upload` and `classify`. The service asks for these instead of
 * growing one interface: the runner, the stack and the conformance suite read them, and the
 * uploader implements the matching optional methods (checked by the conformance suite).
 */
export interface DestinationCapabilities {
  /**
   * The upload saves a resume state (a multipart upload id, a session URI, a temporary file) so a
   * later attempt continues instead of starting again; the uploader implements `discard`. `sealed`:
   * the state is a bearer capability (a session URI) and is stored encrypted.
   */
  readonly resumable?: { readonly sealed: boolean };
  /**
   * The uploader implements `probe`: `write` writes and removes a small object under a reserved
   * name; `identity` asks the provider who the credentials belong to (where writing is unwanted).
   */
  readonly probe?: 'write' | 'identity';
  /** Connections are kept across deliveries of one function instance; the uploader implements `shutdown`. */
  readonly pooledConnections?: boolean;
  /** The largest file the destination takes; larger sources fail before a byte is sent. */
  readonly maxBytes?: number;
  /** Stored credentials change as they are used (rotated OAuth refresh tokens) and are written back. */
  readonly writableCredentials?: boolean;
}

/**
 * An AWS permission the destination's function needs beyond its pipeline's own, as data: the
 * stack turns it into a policy statement with `reason` as the justification of its wildcards.
 * `{partition}` in a resource stands for the deployment's partition.
 */
export interface PermissionStatement {
  readonly actions: readonly string[];
  readonly resources: readonly string[];
  readonly conditions?: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;
  readonly reason: string;
}

/**
 * A deployment-wide secret of the destination (an OAuth client id and secret), stored by the
 * operator as `application/<type>` under the secret prefix and readable by its function only.
 */
export interface ApplicationSecret {
  readonly fields: readonly string[];
  readonly description: string;
}

/** An address the destination will connect to, named by the field that gave it. */
export interface DestinationEndpoint {
  readonly field: string;
  readonly address: string;
}

/**
 * What the rest of the service knows about a destination without loading its upload code: the
 * request schema of its `destination` object (whose secret fields are marked on the fields
 * themselves), the addresses it will connect to, its capabilities, permissions and sizing. The
 * upload code lives beside it in the destination's folder and is loaded only by its own function.
 */
export interface DestinationDefinition<Schema extends z.ZodMiniObject = z.ZodMiniObject> {
  /** The value of `destination.type`. */
  readonly type: string;
  /** A one-line description for the API documents. */
  readonly title: string;
  readonly schema: Schema;
  /**
   * Addresses (hosts or URLs) the destination will connect to, so the ingress can refuse loopback
   * and private networks in the deployed stack.
   */
  readonly endpointsOf: (destination: z.output<Schema>) => readonly DestinationEndpoint[];
  /**
   * Hosts the destination's stored credentials (a `credentials` reference) may be sent to, as
   * `hostMatches` patterns; an operator may allow more (`credentialHosts`). Inline credentials
   * go wherever their caller says.
   * @default - any host
   */
  readonly credentialHosts?: readonly string[];
  /**
   * The bucket the destination writes into, when it writes into a bucket store (S3): the ingress
   * refuses the service's own staging bucket there.
   * @default - none
   */
  readonly bucketOf?: (destination: z.output<Schema>) => { readonly field: string; readonly bucket: string };
  /**
   * The IAM role the destination assumes for its keys, when the request names one (S3's
   * `role_arn`): the ingress refuses the roles of the service's own account, which the functions
   * are denied.
   * @default - none
   */
  readonly assumedRoleOf?: (destination: z.output<Schema>) => { readonly field: string; readonly roleArn: string } | undefined;
  readonly lambda: DestinationLambdaSettings;
  /** @default - none: upload and classify only */
  readonly capabilities?: DestinationCapabilities;
  /** @default - none beyond the pipeline's own */
  readonly permissions?: readonly PermissionStatement[];
  /** @default - none */
  readonly applicationSecret?: ApplicationSecret;
}
