import { describe, expect, it } from 'vitest';
import { accept, type AcceptDependencies } from '../../functions/ingress/accept.ts';
import { testDestination, type TestDestinationDependencies } from '../../functions/ingress/test-destination.ts';
import { ValidationError } from '../../shared/errors.ts';
import { destinationTestSchema, uploadRequestSchema } from '../../functions/destinations/registry.ts';
import { openApiDocument, requestModelSchema } from '../../shared/contract/documents.ts';

/** The account the service is deployed in, as the stack tells the ingress. */
const serviceAccount = '123456789012';

/** Dependencies that fail the test if a refused request gets as far as touching them. */
function untouchable({ accountId }: { accountId?: string } = { accountId: serviceAccount }): AcceptDependencies & TestDestinationDependencies {
  return new Proxy({} as AcceptDependencies & TestDestinationDependencies, {
    get: (_target, name) => {
      if (name === 'allowPrivateNetworks') return false;
      if (name === 'stagingBucket') return 'upload-destinations-staging';
      if (name === 'stagingSourcePrefixes' || name === 'credentialHosts') return [];
      if (name === 'accountId') return accountId;
      throw new Error(`a refused request reached ${String(name)}`);
    },
  });
}

function fieldsOf(error: unknown): Record<string, string> {
  expect(error).toBeInstanceOf(ValidationError);
  return Object.fromEntries((error as ValidationError).fields.map((field) => [field.path, field.message]));
}

async function refusal(request: unknown, dependencies = untouchable()): Promise<Record<string, string>> {
  return fieldsOf(await accept(request, { origin: 'api' }, dependencies).catch((caught: unknown) => caught));
}

/** Whether `accept` took `request` past its checks: it goes on to seal the secrets and record the job. */
async function passesTheChecks(request: unknown, dependencies = untouchable()): Promise<boolean> {
  const error = await accept(request, { origin: 'api' }, dependencies).catch((caught: unknown) => caught);
  return error instanceof Error && error.message.startsWith('a refused request reached');
}

const destination = { type: 's3', bucket: 'my-videos', filename: 'a.mp4', credentials: 'team-s3' };

describe('the deployed ingress', () => {
  it('refuses sources, callbacks and endpoints on loopback and private networks, naming each field', async () => {
    const fields = await refusal({
      source: { url: 'http://169.254.169.254/latest/meta-data/' },
      upload: { destinations: [destination, { ...destination, endpoint: 'http://localhost:9000' }, { ...destination, s3host: '10.0.0.5' }] },
      callback_url: 'http://127.0.0.1:8080/hook',
    });

    expect(fields).toEqual({
      'source.url': 'must not be on a loopback or private network',
      callback_url: 'must not be on a loopback or private network',
      'upload.destinations[1].endpoint': 'must not be on a loopback or private network',
      'upload.destinations[2].s3host': 'must not be on a loopback or private network',
    });
  });

  it('refuses to send stored credentials to a host their destination does not trust them with, naming the field', async () => {
    const fields = await refusal({
      source: { url: 'https://renders.example.com/a.mp4' },
      upload: {
        destinations: [
          { ...destination, endpoint: 'https://collector.example.com' },
          { type: 'facebook', title: 'T', description: 'D', credentials: 'team-facebook', endpoint: 'https://collector.example.com' },
        ],
      },
    });

    expect(fields).toEqual({
      'upload.destinations[0].endpoint': expect.stringContaining('stored credentials are sent only to *.amazonaws.com'),
      'upload.destinations[1].endpoint': expect.stringContaining('stored credentials are sent only to facebook.com, *.facebook.com'),
    });
  });

  it('fetches sources and posts callbacks over HTTPS only', async () => {
    expect(
      await refusal({ source: { url: 'http://renders.example.com/a.mp4' }, upload: { destination }, callback_url: 'http://example.com/hook' }),
    ).toEqual({ 'source.url': 'must be an https:// URL', callback_url: 'must be an https:// URL' });
  });

  describe("refuses a role of the service's own account, which its functions are denied, naming the field", () => {
    const assuming = (account: string, partition = 'aws') => ({
      type: 's3',
      bucket: 'their-videos',
      filename: 'a.mp4',
      role_arn: `arn:${partition}:iam::${account}:role/upload-destinations-delivery`,
      external_id: 'customer-42',
    });
    const ownAccountRole = expect.stringMatching(/^must be a role of another account than the service's own \(123456789012\)/);

    it('in any partition, and leaves other accounts\' roles be', async () => {
      const fields = await refusal({
        source: { url: 'https://renders.example.com/a.mp4' },
        upload: { destinations: [assuming(serviceAccount), assuming('111122223333'), assuming(serviceAccount, 'aws-us-gov'), assuming(serviceAccount, 'aws-cn')] },
      });

      expect(fields).toEqual({
        'upload.destinations[0].role_arn': ownAccountRole,
        'upload.destinations[2].role_arn': ownAccountRole,
        'upload.destinations[3].role_arn': ownAccountRole,
      });
    });

    it('in a request of one destination', async () => {
      expect(await refusal({ source: { url: 'https://renders.example.com/a.mp4' }, upload: { destination: assuming(serviceAccount) } })).toEqual({
        'upload.destination.role_arn': ownAccountRole,
      });
    });

    it('in a destination to test', async () => {
      const error = await testDestination({ destination: assuming(serviceAccount) }, untouchable()).catch((caught: unknown) => caught);

      expect(fieldsOf(error)).toEqual({ 'destination.role_arn': ownAccountRole });
    });

    it("accepts another account's role", async () => {
      expect(await passesTheChecks({ source: { url: 'https://renders.example.com/a.mp4' }, upload: { destination: assuming('111122223333') } })).toBe(true);
    });

    it('refuses no role when the account is unknown (not set)', async () => {
      const request = { source: { url: 'https://renders.example.com/a.mp4' }, upload: { destination: assuming(serviceAccount) } };

      expect(await passesTheChecks(request, untouchable({}))).toBe(true);
    });
  });

  it('reads sources only from its staging bucket', async () => {
    expect(await refusal({ source: { bucket: 'someone-elses', key: 'a.mp4' }, upload: { destination } })).toEqual({
      'source.bucket': "must be the staging bucket 'upload-destinations-staging'",
    });
  });
});

describe('the API documents', () => {
  it('give API Gateway a draft-04 model of the request with every destination field', () => {
    const model = requestModelSchema(uploadRequestSchema) as { $schema: string; properties: { upload: { properties: { destination: { oneOf: { properties: object }[] } } } } };

    expect(model.$schema).toBe('http://json-schema.org/draft-04/schema#');
    expect(Object.keys(model.properties.upload.properties.destination.oneOf[0]!.properties)).toEqual(
      expect.arrayContaining(['bucket', 'filename', 'aws_use_policy', 's3host', 'secure', 'contenttype', 'contentdisposition', 'acl', 'reduced_redundancy', 'cachecontrol', 'metadata', 'storageclass', 'tags', 'headers', 'encryption']),
    );
  });

  it('describe every route in OpenAPI with the schemas the ingress validates with', () => {
    const document = openApiDocument({ uploadRequest: uploadRequestSchema, destinationTest: destinationTestSchema }) as {
      openapi: string;
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: object }> }; parameters?: { name: string }[] }>>;
    };
    const body = (path: string) => JSON.stringify(document.paths[path]!.post!.requestBody!.content['application/json']!.schema);

    expect(document.openapi).toBe('3.0.3');
    expect(Object.entries(document.paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`))).toEqual([
      'POST /v1/uploads',
      'GET /v1/uploads',
      'GET /v1/uploads/{token}',
      'POST /v1/uploads/{token}/retry',
      'POST /v1/destinations/test',
      'GET /v1/canonical-user',
    ]);
    expect(body('/v1/uploads')).toContain('"aws_use_policy"');
    expect(body('/v1/destinations/test')).toContain('"aws_use_policy"');
    expect(body('/v1/uploads/{token}/retry')).toContain('"permanent"');
    expect(document.paths['/v1/uploads']!.get!.parameters!.map((parameter) => parameter.name)).toEqual(['state', 'since', 'limit', 'cursor']);
  });
});
