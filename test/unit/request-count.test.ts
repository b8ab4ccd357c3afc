import { describe, expect, it } from 'vitest';
import { emptyReceive, servedAction } from '../../infra/local/served-action.ts';
import { threadExecArgv } from '../../infra/local/thread-options.ts';
import { requestsPerDelivery, s3Counts, s3Operation, totalRequests, type AwsRequestCounts } from '../support/aws-requests.ts';
import { renderRequests, requestGoals } from '../bench/report/pipeline-goals.ts';
import { succeededIn, type RequestsResult } from '../bench/sections/requests.ts';

const none: AwsRequestCounts = { dynamodb: {}, sqs: {}, s3: {}, kms: {}, secretsmanager: {} };

describe('servedAction', () => {
  it('names a JSON-protocol request by its target operation, without reading its answer', () => {
    // Prepare
    let read = false;
    const answer = () => {
      read = true;
      return '{}';
    };

    // Act
    const actions = [servedAction('POST', 'DynamoDB_20120810.UpdateItem', answer), servedAction('POST', 'AmazonSQS.SendMessage', answer)];

    // Assess
    expect(actions).toEqual(['UpdateItem', 'SendMessage']);
    expect(read).toBe(false);
  });

  it('tells a receive that got messages from one that found the queue empty', () => {
    // Act
    const got = servedAction('POST', 'AmazonSQS.ReceiveMessage', () => '{"Messages":[{"MessageId":"1","Body":"{}"}]}');
    const empty = servedAction('POST', 'AmazonSQS.ReceiveMessage', () => '{}');
    const emptyList = servedAction('POST', 'AmazonSQS.ReceiveMessage', () => '{"Messages":[]}');
    const broken = servedAction('POST', 'AmazonSQS.ReceiveMessage', () => '');

    // Assess
    expect(got).toBe('ReceiveMessage');
    expect([empty, emptyList, broken]).toEqual([emptyReceive, emptyReceive, emptyReceive]);
  });

  it('names a request without a target by its method', () => {
    expect(servedAction('GET', undefined, () => '')).toBe('GET (no target)');
  });
});

describe('s3Counts', () => {
  it('counts S3 requests by bucket role and operation', () => {
    // Prepare
    const request = (method: string, path: string, query = '') => ({ method, path, query: new URLSearchParams(query) });

    // Act
    const counts = s3Counts(
      [
        request('GET', '/staging/bench/1k.bin'),
        request('PUT', '/deliveries/a.bin'),
        request('PUT', '/deliveries/b.bin', 'partNumber=1&uploadId=u'),
        request('POST', '/deliveries/b.bin', 'uploadId=u'),
        request('GET', '/deliveries', 'acl'),
      ],
      'staging',
    );

    // Assess
    expect(counts).toEqual({
      'staging GetObject': 1,
      'destination PutObject': 1,
      'destination UploadPart': 1,
      'destination CompleteMultipartUpload': 1,
      'destination GetBucketAcl': 1,
    });
    expect(s3Operation(request('HEAD', '/deliveries/a.bin'))).toBe('HeadObject');
  });
});

describe('requestsPerDelivery', () => {
  it('divides what moved by the deliveries, leaving out the pollers’ empty receives and what did not move', () => {
    // Prepare
    const before: AwsRequestCounts = { ...none, sqs: { SendMessage: 4, [emptyReceive]: 100 }, dynamodb: { UpdateItem: 8, CreateTable: 1 } };
    const after: AwsRequestCounts = {
      ...none,
      sqs: { SendMessage: 14, ReceiveMessage: 10, DeleteMessageBatch: 10, [emptyReceive]: 180 },
      dynamodb: { UpdateItem: 28, BatchWriteItem: 10, CreateTable: 1 },
      kms: { GenerateDataKey: 1 },
    };

    // Act
    const per = requestsPerDelivery(before, after, 10);

    // Assess
    expect(per).toEqual({
      dynamodb: { UpdateItem: 2, BatchWriteItem: 1 },
      sqs: { SendMessage: 1, ReceiveMessage: 1, DeleteMessageBatch: 1 },
      s3: {},
      kms: { GenerateDataKey: 0.1 },
      secretsmanager: {},
    });
    expect(totalRequests(per)).toBeCloseTo(6.1);
  });
});

describe('the requests section', () => {
  const result: RequestsResult = {
    fileBytes: 1024,
    scenarios: [
      {
        name: 'baseline',
        baseline: true,
        deliveries: 10,
        perDelivery: { ...none, dynamodb: { BatchWriteItem: 1, UpdateItem: 3 }, sqs: { SendMessage: 1, ReceiveMessage: 1, DeleteMessageBatch: 1 }, s3: { 'staging GetObject': 1, 'destination PutObject': 1 } },
        total: 9,
      },
      { name: 'inline secrets', baseline: false, deliveries: 10, perDelivery: { ...none, kms: { Decrypt: 0.1 } }, total: 0.1 },
    ],
  };

  it('judges the baseline scenario against 8 requests, naming each service’s share', () => {
    // Act
    const [goal] = requestGoals(result);

    // Assess
    expect(goal).toMatchObject({ met: false, measured: '9 (DynamoDB 4, SQS 3, S3 2, KMS 0, Secrets Manager 0)' });
    expect(requestGoals(undefined)[0]?.met).toBeUndefined();
  });

  it('renders one row per scenario, each service with its actions', () => {
    // Act
    const table = renderRequests(result);

    // Assess
    expect(table).toContain('| baseline       | 4: BatchWriteItem 1, UpdateItem 3 | 3: SendMessage 1, ReceiveMessage 1, DeleteMessageBatch 1 |');
    expect(table).toContain('0.10: Decrypt 0.10');
  });

  it('reads the succeeded deliveries of an embedded-metric-format line, and nothing from other lines', () => {
    expect(succeededIn('{"_aws":{"CloudWatchMetrics":[]},"DeliveriesSucceeded":1}')).toBe(1);
    expect(succeededIn('{"_aws":{"CloudWatchMetrics":[]},"DeliveriesSucceeded":[1,1]}')).toBe(2);
    expect(succeededIn('{"level":"INFO","message":"DeliveriesSucceeded"}')).toBe(0);
  });
});

describe('threadExecArgv', () => {
  it('passes the process’s CPU profiling and silenced warnings on to a thread, and nothing else of its own', () => {
    // Act
    const argv = threadExecArgv(['--cpu-prof', '--cpu-prof-dir=/tmp/p', '--inspect', '--cpu-profile-x', '--require', 'x.cjs', '--no-warnings=ExperimentalWarning', '--import', 'tsx']);

    // Assess
    expect(argv).toEqual(['--cpu-prof', '--cpu-prof-dir=/tmp/p', '--no-warnings=ExperimentalWarning', '--enable-source-maps']);
  });
});
