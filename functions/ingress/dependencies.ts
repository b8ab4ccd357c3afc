import type { Logger } from '@aws-lambda-powertools/logger';
import { readConfig } from '../../shared/config.ts';
import { JobListing } from '../../shared/jobs/job-listing.ts';
import { JobStore } from '../../shared/jobs/job-store.ts';
import { functionInvoker, jobTable, serviceClientSettings, serviceQueues } from '../../shared/lambda/aws-clients.ts';
import { sealerFor } from '../../shared/lambda/secrets.ts';
import { StagingObjects } from '../../shared/sources/staging-objects.ts';
import type { AcceptDependencies } from './accept.ts';
import type { ListDependencies } from './list-jobs.ts';
import type { TestDestinationDependencies } from './test-destination.ts';

/** What every door of the ingress needs. */
export interface IngressDependencies extends AcceptDependencies, ListDependencies, TestDestinationDependencies {
  /** How long `async: false` waits for the delivery before answering with the token. */
  readonly syncWaitSeconds: number;
  /** How many `async: false` requests may wait at once, deployment-wide. */
  readonly maxSyncWaiters: number;
  readonly log: Logger;
}

/** Built once per cold start from the environment. */
export function ingressDependencies(log: Logger): IngressDependencies {
  const config = readConfig();
  const table = jobTable(config);
  return {
    jobs: new JobStore(table, config.retentionDays),
    listing: new JobListing(table),
    retentionDays: config.retentionDays,
    invoke: functionInvoker(config),
    destinationFunctions: config.destinationFunctions,
    queues: serviceQueues(config),
    queueUrls: config.queueUrls,
    sealer: sealerFor(config),
    allowPrivateNetworks: config.allowPrivateNetworks,
    staging: new StagingObjects(serviceClientSettings(config, config.awsEndpoints.s3)),
    stagingBucket: config.stagingBucket,
    presignedUrlSeconds: config.presignedUrlSeconds,
    stagingSourcePrefixes: config.stagingSourcePrefixes,
    credentialHosts: config.credentialHosts,
    accountId: config.accountId,
    syncWaitSeconds: config.syncWaitSeconds,
    maxSyncWaiters: config.maxSyncWaiters,
    log,
  };
}
