/**
 * The physical names of the pipeline's resources and where each function's code is, used by both
 * the CDK stack and the local runtime so the two cannot drift apart. Running code never imports
 * this: the names reach it through the environment (`shared/config.ts`).
 */
export const resourceNames = {
  table: 'upload-destinations-jobs',
  stagingBucket: 'upload-destinations-staging',
  inboxQueue: 'upload-destinations-inbox',
  inboxDeadLetterQueue: 'upload-destinations-inbox-dlq',
  /** Secrets Manager names under this prefix are the only ones the functions may read. */
  secretPrefix: 'upload-destinations/',
  destinationQueue: (type: string): string => `upload-destinations-${type}`,
  destinationDeadLetterQueue: (type: string): string => `upload-destinations-${type}-dlq`,
  functionName: (type: string): string => `upload-destinations-${type}`,
} as const;

/** Each function's handler file, relative to the repository root. */
export const functionEntries = {
  ingress: 'functions/ingress/handler.ts',
  destination: (type: string): string => `functions/destinations/${type}/handler.ts`,
} as const;
