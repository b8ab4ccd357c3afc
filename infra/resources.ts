/**
 * The names of the pipeline's resources, used by both the CDK stack and the local runtime so the
 * two cannot drift apart. Queue names are derived from the destination type.
 */
export const resourceNames = {
  table: 'upload-destinations-jobs',
  /** The job table's string keys (a job's token; `job` or `destination#NNN`) and its TTL attribute. */
  tableKeys: { partition: 'token', sort: 'item', expiry: 'expiresAt' },
  stagingBucket: 'upload-destinations-staging',
  inboxQueue: 'upload-destinations-inbox',
  inboxDeadLetterQueue: 'upload-destinations-inbox-dlq',
  /** Secrets Manager names under this prefix are the only ones the functions may read. */
  secretPrefix: 'upload-destinations/',
  /** The secret (under the prefix) whose value signs callbacks. */
  callbackSigningSecret: 'callback-signing-key',
  /** Staging-bucket prefixes the ingress listens to: presigned uploads, and files dropped with a manifest. */
  stagingPrefixes: { presignedUploads: 'uploads/', drop: 'drop/' },
  destinationQueue: (type: string): string => `upload-destinations-${type}`,
  destinationDeadLetterQueue: (type: string): string => `upload-destinations-${type}-dlq`,
} as const;

/** How many times a destination message is received before it moves to its dead-letter queue. */
export const defaultMaxAttempts = 5;
