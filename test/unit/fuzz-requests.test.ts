import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { destinations, destinationTypes } from '../../functions/destinations/registry.ts';
import { accept, acceptOrRecordRejection, type AcceptDependencies } from '../../functions/ingress/accept.ts';
import { ValidationError, type FieldError } from '../../shared/errors.ts';
import type { JobStore } from '../../shared/jobs/job-store.ts';
import type { Queues } from '../../shared/lambda/queues.ts';
import { EnvelopeSealer, LocalKeyWrapper } from '../../shared/secrets/sealer.ts';

/** One valid destination per type: the fuzzer breaks one field of it at a time. */
const validDestinations: Readonly<Record<string, Record<string, unknown>>> = {
  s3: { type: 's3', bucket: 'my-videos', filename: 'renders/a.mp4', aws_access_key_id: 'AKIAIOSFODNN7EXAMPLE', aws_secret_access_key: 'secret' },
  azureblob: { type: 'azureblob', account: 'mystorageaccount', key: 'a2V5', container: 'videos', filename: 'renders/a.mp4' },
  youtube: { type: 'youtube', title: 'Welcome', description: 'A video.', category: '22', oauth_access_token: 'ya29.token' },
  facebook: { type: 'facebook', title: 'Welcome', description: 'A video.', oauth_access_token: 'EAAtoken' },
  dropbox: { type: 'dropbox', filename: 'Videos/a.mp4', oauth_token: 'sl.token' },
  http: { type: 'http', url: 'https://uploads.example.com/in', filename: 'a.mp4' },
  ftp: { type: 'ftp', host: 'ftp.example.com', filename: '/videos/a.mp4', user: 'u', password: 'p' },
  sftp: { type: 'sftp', host: 'sftp.example.com', user: 'u', password: 'p', filename: '/videos/a.mp4' },
};

function request(destination: Record<string, unknown>): Record<string, unknown> {
  return { source: { url: 'https://renders.example.com/a.mp4' }, upload: { extension: 'mp4', destination }, callback_url: 'https://hooks.example.com/done' };
}

/** Values no field of the contract takes as they are, whatever the field's type. */
const invalidValue = fc.oneof(
  fc.constant(null),
  fc.constant(''),
  fc.constant({ unexpected: { nested: true } }),
  fc.constant([1, 'two', { three: 3 }]),
  fc.constant('line\r\nX-Injected: 1'),
  fc.constant('../../../etc/passwd'),
  fc.constant('bad\ud800surrogate'),
  fc.constant(`big${'x'.repeat(70_000)}`),
  fc.constant(Number.NaN),
  fc.constant(-1.5),
  fc.constant('\u0000nul'),
  fc.constant('http://user:password@evil.example/'),
);

/** Every field a request may carry: the request's own, and each destination's, by path. */
const requestPaths: readonly (readonly string[])[] = [
  ['source', 'url'],
  ['source', 'bucket'],
  ['source', 'key'],
  ['source', 'presigned'],
  ['upload', 'extension'],
  ['upload', 'async'],
  ['upload', 'destinations'],
  ['callback_url'],
  ['idempotency_key'],
  ['upload', 'destination', 'type'],
];

function destinationPaths(type: string): string[][] {
  const definition = destinations.find((candidate) => candidate.type === type)!;
  return Object.keys(definition.schema.shape)
    .filter((field) => field !== 'type')
    .map((field) => ['upload', 'destination', field]);
}

function withValue(base: Record<string, unknown>, path: readonly string[], value: unknown): Record<string, unknown> {
  const copy = structuredClone(base);
  let cursor = copy as Record<string, unknown>;
  for (const part of path.slice(0, -1)) {
    cursor[part] = typeof cursor[part] === 'object' && cursor[part] !== null ? { ...(cursor[part] as object) } : {};
    cursor = cursor[part] as Record<string, unknown>;
  }
  cursor[path.at(-1)!] = value;
  return copy;
}

/** Dependencies that record what an accepted request would have done, so a refused one can be shown to have done nothing. */
function recordingDependencies() {
  const effects: string[] = [];
  const dependencies = {
    jobs: {
      create: async () => void effects.push('job'),
      createRejected: async () => void effects.push('job'),
      reserveIdempotencyKey: async () => undefined,
      markEnqueued: async () => void effects.push('enqueued'),
    } as unknown as JobStore,
    queues: { send: async () => void effects.push('queued') } as unknown as Queues,
    queueUrls: Object.fromEntries(destinationTypes.map((type) => [type, `https://sqs.local/${type}`])),
    sealer: new EnvelopeSealer(new LocalKeyWrapper(randomBytes(32))),
    allowPrivateNetworks: false,
    staging: {} as never,
    stagingBucket: 'upload-destinations-staging',
    presignedUrlSeconds: 60,
    stagingSourcePrefixes: [],
    credentialHosts: [],
  } satisfies AcceptDependencies;
  return { dependencies, effects };
}

/** A refusal names the broken field (or, for a rule between fields, a field beside it). */
function namesField(errors: readonly FieldError[], path: readonly string[]): boolean {
  const field = path.join('.');
  const parent = path.slice(0, -1).join('.');
  return errors.some((error) => error.path === field || error.path.startsWith(`${field}.`) || error.path.startsWith(`${field}[`) || (parent !== '' && error.path.startsWith(parent)));
}

describe('Fuzzing the doors with invalid requests', () => {
  it('has a valid destination for every destination type to break', () => {
    expect(Object.keys(validDestinations).filter((type) => destinationTypes.includes(type as never)).sort()).toEqual([...destinationTypes].sort());
  });

  it.each(destinationTypes.map((type) => [type]))('accepts the unbroken %s request (so every refusal below is the broken field\'s)', async (type) => {
    const { dependencies, effects } = recordingDependencies();

    await accept(request(validDestinations[type]!), { origin: 'api' }, dependencies);

    expect(effects).toContain('queued');
  });

  it('answers at least 1,000 requests with one broken field with a 400 naming it: no crash, nothing recorded or queued', async () => {
    let refused = 0;
    const types = destinationTypes.filter((type) => validDestinations[type]);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...types).chain((type) => fc.tuple(fc.constant(type), fc.constantFrom(...requestPaths, ...destinationPaths(type)), invalidValue)),
        async ([type, path, value]) => {
          const { dependencies, effects } = recordingDependencies();
          const broken = withValue(request(validDestinations[type]!), path, value);

          const outcome = await accept(broken, { origin: 'api' }, dependencies).then(
            () => undefined,
            (error: unknown) => error,
          );

          if (outcome === undefined) return; // This value happens to be valid for this field.
          expect(outcome).toBeInstanceOf(ValidationError);
          expect(namesField((outcome as ValidationError).fields, path)).toBe(true);
          expect(effects).toEqual([]);
          refused += 1;
        },
      ),
      { numRuns: 1500, seed: 20261126 },
    );
    expect(refused).toBeGreaterThanOrEqual(1000);
  });

  it('turns broken manifests and inbox messages into rejected jobs naming the field, never queued, never thrown', async () => {
    let rejected = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...destinationTypes.filter((type) => validDestinations[type])).chain((type) =>
          fc.tuple(fc.constant(type), fc.constantFrom(...destinationPaths(type)), invalidValue, fc.constantFrom('s3', 'inbox')),
        ),
        async ([type, path, value, origin]) => {
          const { dependencies, effects } = recordingDependencies();
          const broken = withValue(request(validDestinations[type]!), path, value);

          const { errors } = await acceptOrRecordRejection(() => JSON.parse(JSON.stringify(broken)), { origin, token: `${origin}-fuzz` }, dependencies);

          if (errors === undefined) return;
          expect(namesField(errors, path)).toBe(true);
          expect(effects).toEqual(['job']);
          rejected += 1;
        },
      ),
      { numRuns: 600, seed: 20261127 },
    );
    expect(rejected).toBeGreaterThanOrEqual(400);
  });
});
