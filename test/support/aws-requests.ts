import { BroadcastChannel } from 'node:worker_threads';
import type { LocalPipeline } from '../../infra/local/pipeline.ts';
import type { RecordedS3Request } from '../../infra/local/s3-server.ts';
import { emptyReceive } from '../../infra/local/served-action.ts';
import { localKmsCallsChannel } from '../../shared/secrets/sealer.ts';
import { localSecretsManagerCallsChannel } from '../../shared/secrets/secret-store.ts';

/** Requests by action (`UpdateItem`, `staging GetObject`, …). */
export type Counts = Readonly<Record<string, number>>;

/** The AWS services a delivery may call, in the order reports list them. */
export const awsServices = ['dynamodb', 'sqs', 's3', 'kms', 'secretsmanager'] as const;
export type AwsService = (typeof awsServices)[number];

/** Requests per AWS service, by action. */
export type AwsRequestCounts = Readonly<Record<AwsService, Counts>>;

/** The S3 operation a recorded request was (`PutObject`, `UploadPart`, …), from its method, key and query. */
export function s3Operation(request: Pick<RecordedS3Request, 'method' | 'path' | 'query'>): string {
  const hasKey = request.path.split('/').filter(Boolean).length > 1;
  const { query, method } = request;
  if (method === 'PUT' && query.has('partNumber')) return 'UploadPart';
  if (method === 'POST' && query.has('uploads')) return 'CreateMultipartUpload';
  if (method === 'POST' && query.has('uploadId')) return 'CompleteMultipartUpload';
  if (method === 'DELETE' && query.has('uploadId')) return 'AbortMultipartUpload';
  if (method === 'GET' && query.has('uploadId')) return 'ListParts';
  if (method === 'GET' && query.has('acl')) return 'GetBucketAcl';
  if (method === 'PUT' && hasKey) return 'PutObject';
  if (method === 'GET' && hasKey) return 'GetObject';
  if (method === 'HEAD' && hasKey) return 'HeadObject';
  if (method === 'GET') return 'ListObjects';
  return `${method} ${hasKey ? 'object' : 'bucket'}`;
}

/** S3 requests by bucket role and operation: `staging GetObject`, `destination PutObject`. */
export function s3Counts(requests: readonly Pick<RecordedS3Request, 'method' | 'path' | 'query'>[], stagingBucket: string): Counts {
  const counts: Record<string, number> = {};
  for (const request of requests) {
    const role = request.path.split('/')[1] === stagingBucket ? 'staging' : 'destination';
    const name = `${role} ${s3Operation(request)}`;
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

/**
 * What `deliveries` deliveries cost each service between two snapshots, per delivery. The local
 * event sources' receives of an empty queue are left out: they are the pollers' own, made on any
 * load (as Lambda's pollers make them), not a delivery's.
 */
export function requestsPerDelivery(before: AwsRequestCounts, after: AwsRequestCounts, deliveries: number): AwsRequestCounts {
  const per = (service: AwsService): Counts =>
    Object.fromEntries(
      Object.keys(after[service])
        .filter((action) => action !== emptyReceive)
        .map((action) => [action, ((after[service][action] ?? 0) - (before[service][action] ?? 0)) / deliveries] as const)
        .filter(([, count]) => count > 0),
    );
  return Object.fromEntries(awsServices.map((service) => [service, per(service)])) as AwsRequestCounts;
}

/** Every request of `counts`, all services together. */
export function totalRequests(counts: AwsRequestCounts): number {
  return awsServices.reduce((sum, service) => sum + Object.values(counts[service]).reduce((a, b) => a + b, 0), 0);
}

/** The same counts, with their empty receives too: what moves while the pipeline is busy. */
function sameCounts(a: AwsRequestCounts, b: AwsRequestCounts): boolean {
  return awsServices.every((service) => {
    const keys = new Set([...Object.keys(a[service]), ...Object.keys(b[service])].filter((action) => action !== emptyReceive));
    return [...keys].every((action) => a[service][action] === b[service][action]);
  });
}

/**
 * Counts, at the local runtime's servers, the AWS requests its functions make: S3 (the local
 * front's records), SQS and DynamoDB (their threads' counters), KMS and Secrets Manager (what the
 * local key and secret store say they stand in for, on their broadcast channels).
 */
export class AwsRequestCounter {
  private readonly kms: Record<string, number> = {};
  private readonly secretsManager: Record<string, number> = {};
  private readonly channels: BroadcastChannel[];

  public constructor(
    private readonly pipeline: Pick<LocalPipeline, 's3' | 'requestCounts'>,
    private readonly stagingBucket: string,
  ) {
    const listen = (name: string, into: Record<string, number>): BroadcastChannel => {
      const channel = new BroadcastChannel(name);
      channel.onmessage = (event: unknown) => {
        const action = String((event as MessageEvent).data);
        into[action] = (into[action] ?? 0) + 1;
      };
      return channel;
    };
    this.channels = [listen(localKmsCallsChannel, this.kms), listen(localSecretsManagerCallsChannel, this.secretsManager)];
  }

  /** Every request counted so far. */
  public async snapshot(): Promise<AwsRequestCounts> {
    const servers = await this.pipeline.requestCounts();
    return {
      dynamodb: { ...servers.dynamodb },
      sqs: { ...servers.sqs },
      s3: s3Counts(this.pipeline.s3.requests, this.stagingBucket),
      kms: { ...this.kms },
      secretsmanager: { ...this.secretsManager },
    };
  }

  /**
   * A snapshot once the counts have stopped moving (a delivery's last requests, like the event
   * source's delete, may follow the moment it is seen done), within `maxMilliseconds`.
   */
  public async settled(quietMilliseconds = 200, maxMilliseconds = 5000): Promise<AwsRequestCounts> {
    const until = Date.now() + maxMilliseconds;
    let last = await this.snapshot();
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, quietMilliseconds));
      const next = await this.snapshot();
      if (sameCounts(last, next) || Date.now() > until) return next;
      last = next;
    }
  }

  public close(): void {
    for (const channel of this.channels) channel.close();
  }
}
