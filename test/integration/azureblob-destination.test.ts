import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { azureBlobDestination, azureBlobDestinationSchema } from '../../functions/destinations/azureblob/schema.ts';
import { azureBlobUploader } from '../../functions/destinations/azureblob/upload.ts';
import { parseBlockId } from '../../functions/destinations/azureblob/blocks.ts';
import { crc32Base64 } from '../../shared/delivery/checksum.ts';
import { PermanentError, TransientError } from '../../shared/errors.ts';
import { outboundNetwork } from '../../shared/net/outbound-network.ts';
import { startTestAzure, type RecordedAzureRequest, type TestAzure } from '../support/azure-storage.ts';
import { attemptFailure, attemptUpload } from '../support/attempts.ts';
import { localNetwork } from '../support/network.ts';
import { createContainerSas } from '../support/servers/azurite.ts';
import { MemoryResume, patternBytes, sha256, sourceOf } from '../support/sources.ts';

const MiB = 1024 * 1024;
let azure: TestAzure;

const module = { definition: azureBlobDestination, uploader: azureBlobUploader };

function destination(fields: Record<string, unknown>) {
  return azureBlobDestinationSchema.parse({
    type: 'azureblob',
    account: azure.account,
    key: azure.accountKey,
    container: 'deliveries',
    endpoint: azure.blobEndpoint,
    ...fields,
  });
}

/** A destination signed with a SAS instead of the key. */
function sasDestination(permissions: string, fields: Record<string, unknown>) {
  const { token } = createContainerSas(azure.azurite, 'deliveries', { permissions });
  return destination({ key: undefined, sas_token: token, ...fields });
}

function blobClient(name: string, container = 'deliveries') {
  return azure.service.getContainerClient(container).getBlockBlobClient(name);
}

function requestsTo(name: string, filter: (request: RecordedAzureRequest) => boolean = () => true, container = 'deliveries') {
  return azure.requests.filter((request) => request.path === `/${container}/${name}` && filter(request));
}

const isPutBlock = (request: RecordedAzureRequest): boolean => request.method === 'PUT' && request.query.get('comp') === 'block';
const isCommit = (request: RecordedAzureRequest): boolean => request.method === 'PUT' && request.query.get('comp') === 'blocklist';
const isPutBlob = (request: RecordedAzureRequest): boolean => request.method === 'PUT' && !request.query.has('comp');

function md5(bytes: Buffer): string {
  return createHash('md5').update(bytes).digest('base64');
}

/** Leaves staged blocks under `name`: an attempt whose source breaks after the first blocks. */
async function stageBlocksOf(name: string, fields: Record<string, unknown> = {}): Promise<MemoryResume<never>> {
  const resume = new MemoryResume<never>();
  await attemptFailure(module, destination({ filename: name, ...fields }), sourceOf(patternBytes(40 * MiB, 5), { failsAt: 20 * MiB }), { resume: resume as never });
  return resume;
}

beforeAll(async () => {
  azure = await startTestAzure(['deliveries', '$root']);
});

afterAll(async () => {
  await azure.close();
});

beforeEach(() => {
  azure.requests.length = 0;
});

describe('Azure Blob destination against Azurite: what is stored', () => {
  it('stores every field that changes the blob, in one Put Blob whose MD5 the service checks', async () => {
    // Prepare
    const bytes = patternBytes(300_000);
    const fields = destination({
      filename: 'renders/welcome.mp4',
      contenttype: 'video/mp4',
      contentdisposition: 'attachment; filename="welcome.mp4"',
      contentencoding: 'identity',
      contentlanguage: 'de-DE',
      cachecontrol: 'max-age=172800',
      metadata: { render_id: 'r-42', render1: 'first', Frames: 120 },
      tags: { project: 'welcome', 'owner/team': 'a b+c' },
      tier: 'cool',
    });

    // Act
    const result = await attemptUpload(module, fields, sourceOf(bytes));

    // Assess
    const blob = blobClient('renders/welcome.mp4');
    const properties = await blob.getProperties();
    expect(sha256((await azure.read('deliveries', 'renders/welcome.mp4'))!)).toBe(sha256(bytes));
    expect(properties).toMatchObject({
      contentType: 'video/mp4',
      contentDisposition: 'attachment; filename="welcome.mp4"',
      contentEncoding: 'identity',
      contentLanguage: 'de-DE',
      cacheControl: 'max-age=172800',
      accessTier: 'Cool',
      metadata: { render_id: 'r-42', render1: 'first', frames: '120' },
    });
    expect(Buffer.from(properties.contentMD5!).toString('base64')).toBe(md5(bytes));
    expect((await blob.getTags()).tags).toEqual({ project: 'welcome', 'owner/team': 'a b+c' });
    expect(result).toMatchObject({
      url: `${azure.blobEndpoint}/deliveries/renders/welcome.mp4`,
      bytes: bytes.length,
      details: { container: 'deliveries', blob: 'renders/welcome.mp4', blocks: 0 },
    });
    const [put] = requestsTo('renders/welcome.mp4', isPutBlob);
    expect(put?.headers['content-md5']).toBe(md5(bytes));
    expect(put?.headers['x-ms-access-tier']).toBe('Cool');
  });

  it('streams a large file as staged blocks, each with the MD5 of its bytes, committed with every field', async () => {
    const bytes = patternBytes(21 * MiB + 123, 7);
    const fields = destination({ filename: 'large.bin', contenttype: 'video/mp4', cachecontrol: 'no-cache', metadata: { size: 'large' }, tags: { size: 'large' }, tier: 'Cold' });

    const result = await attemptUpload(module, fields, sourceOf(bytes));

    expect(sha256((await azure.read('deliveries', 'large.bin'))!)).toBe(sha256(bytes));
    const blocks = requestsTo('large.bin', isPutBlock);
    expect(blocks).toHaveLength(3);
    for (const block of blocks) expect(block.headers['content-md5']).toBe(block.bodyMd5);
    expect(blocks.map((block) => parseBlockId(block.query.get('blockid')!)).sort((a, b) => a!.index - b!.index)).toMatchObject([
      { index: 0, length: 8 * MiB },
      { index: 1, length: 8 * MiB },
      { index: 2, length: 5 * MiB + 123 },
    ]);
    const properties = await blobClient('large.bin').getProperties();
    expect(properties).toMatchObject({ contentType: 'video/mp4', cacheControl: 'no-cache', accessTier: 'Cold', metadata: { size: 'large' }, contentLength: bytes.length });
    expect((await blobClient('large.bin').getTags()).tags).toEqual({ size: 'large' });
    expect(result.details).toMatchObject({ blocks: 3 });
    expect(await azure.leftovers('deliveries')).toEqual([]);
  });

  it("applies the seeds' default content type and leaves the tier to the account", async () => {
    await attemptUpload(module, destination({ filename: 'plain.bin' }), sourceOf(patternBytes(10)));

    const properties = await blobClient('plain.bin').getProperties();
    expect(properties.contentType).toBe('application/octet-stream');
    expect(properties.accessTierInferred).toBe(true);
    expect(requestsTo('plain.bin', isPutBlob)[0]?.headers['x-ms-access-tier']).toBeUndefined();
  });

  it('writes an archived blob when asked for the Archive tier', async () => {
    await attemptUpload(module, destination({ filename: 'archive.bin', tier: 'Archive' }), sourceOf(patternBytes(1000)));

    expect((await blobClient('archive.bin').getProperties()).accessTier).toBe('Archive');
  });

  it('writes to the root container when none is given', async () => {
    const result = await attemptUpload(module, destination({ container: undefined, filename: 'at-the-root.txt' }), sourceOf(patternBytes(10)));

    expect(await azure.read('$root', 'at-the-root.txt')).toHaveLength(10);
    expect(result.url).toBe(`${azure.blobEndpoint}/$root/at-the-root.txt`);
  });

  it('puts the source name inside a folder filename, percent-encoded in the URL', async () => {
    const result = await attemptUpload(module, destination({ filename: 'incoming/' }), sourceOf(patternBytes(10), { name: 'clip 1+ü.mp4' }));

    expect(await azure.read('deliveries', 'incoming/clip 1+ü.mp4')).toHaveLength(10);
    expect(result.url).toBe(`${azure.blobEndpoint}/deliveries/incoming/clip%201%2B%C3%BC.mp4`);
  });

  it('replaces an existing blob', async () => {
    await attemptUpload(module, destination({ filename: 'twice.bin' }), sourceOf(patternBytes(100, 1)));

    await attemptUpload(module, destination({ filename: 'twice.bin' }), sourceOf(patternBytes(200, 2)));

    expect(await azure.read('deliveries', 'twice.bin')).toEqual(patternBytes(200, 2));
  });
});

describe('Azure Blob destination: signing in', () => {
  it('uploads with a container SAS token, and answers a URL without it', async () => {
    const fields = sasDestination('rcwd', { filename: 'with-sas.bin' });

    const result = await attemptUpload(module, fields, sourceOf(patternBytes(9 * MiB, 3)));

    expect(sha256((await azure.read('deliveries', 'with-sas.bin'))!)).toBe(sha256(patternBytes(9 * MiB, 3)));
    expect(result.url).toBe(`${azure.blobEndpoint}/deliveries/with-sas.bin`);
    expect(requestsTo('with-sas.bin').every((request) => request.query.has('sig') && request.headers.authorization === undefined)).toBe(true);
    expect(result.notes).toBeUndefined();
  });

  it('uploads with a connection string holding the account key', async () => {
    const fields = azureBlobDestinationSchema.parse({ type: 'azureblob', connection_string: azure.connectionString, container: 'deliveries', filename: 'with-connection-string.bin' });

    await attemptUpload(module, fields, sourceOf(patternBytes(100)));

    expect(await azure.read('deliveries', 'with-connection-string.bin')).toHaveLength(100);
  });

  it('uploads with a connection string holding a SAS and a Blob endpoint', async () => {
    const { token } = createContainerSas(azure.azurite, 'deliveries');
    const fields = azureBlobDestinationSchema.parse({
      type: 'azureblob',
      connection_string: `BlobEndpoint=${azure.blobEndpoint}/;SharedAccessSignature=${token}`,
      container: 'deliveries',
      filename: 'with-sas-connection-string.bin',
    });

    await attemptUpload(module, fields, sourceOf(patternBytes(100)));

    expect(await azure.read('deliveries', 'with-sas-connection-string.bin')).toHaveLength(100);
  });

  it('says so when a SAS without read permission means a retry cannot continue', async () => {
    const result = await attemptUpload(module, sasDestination('cw', { filename: 'write-only.bin' }), sourceOf(patternBytes(100)));

    expect(result.notes).toEqual([expect.stringContaining('no read (r) permission')]);
  });
});

describe('Azure Blob destination: retries continue from the staged blocks', () => {
  it('reads the source on from the last staged block (a ranged read) and sends only the rest', async () => {
    const bytes = patternBytes(40 * MiB, 5);
    const resume = new MemoryResume<never>();
    await attemptFailure(module, destination({ filename: 'continued.bin' }), sourceOf(bytes, { failsAt: 20 * MiB }), { resume: resume as never });
    const stagedFirst = requestsTo('continued.bin', isPutBlock).length;
    const reads: number[] = [];

    const result = await attemptUpload(module, destination({ filename: 'continued.bin' }), sourceOf(bytes, { reads }), { resume: resume as never });

    expect(sha256((await azure.read('deliveries', 'continued.bin'))!)).toBe(sha256(bytes));
    expect(stagedFirst).toBe(2);
    expect(requestsTo('continued.bin', isPutBlock)).toHaveLength(5);
    expect(result.details).toMatchObject({ blocks: 5, resumed_at: 16 * MiB });
    // Only what follows the staged blocks was read: the CRC-32 of the rest came from the block ids.
    expect(reads.reduce((sum, length) => sum + length, 0)).toBe(24 * MiB);
    expect(result.checksum.value).toBe(crc32Base64(crc32(bytes)));
  });

  it("continues from its own blocks only, not from those another upload to the same name staged meanwhile", async () => {
    const mine = patternBytes(40 * MiB, 12);
    const theirs = patternBytes(40 * MiB, 13);
    const resume = new MemoryResume<never>();
    await attemptFailure(module, destination({ filename: 'contested.bin' }), sourceOf(mine, { failsAt: 20 * MiB }), { resume: resume as never });
    await attemptFailure(module, destination({ filename: 'contested.bin' }), sourceOf(theirs, { failsAt: 30 * MiB }));

    await attemptUpload(module, destination({ filename: 'contested.bin' }), sourceOf(mine), { resume: resume as never });

    expect(sha256((await azure.read('deliveries', 'contested.bin'))!)).toBe(sha256(mine));
    expect(await azure.leftovers('deliveries')).toEqual([]);
  });

  it('starts again when the SAS may not list the staged blocks', async () => {
    const bytes = patternBytes(40 * MiB, 6);
    const resume = new MemoryResume<never>();
    const fields = sasDestination('cw', { filename: 'no-listing.bin' });
    await attemptFailure(module, fields, sourceOf(bytes, { failsAt: 20 * MiB }), { resume: resume as never });

    await attemptUpload(module, fields, sourceOf(bytes), { resume: resume as never });

    expect(sha256((await azure.read('deliveries', 'no-listing.bin'))!)).toBe(sha256(bytes));
    expect(requestsTo('no-listing.bin', (request) => request.query.get('comp') === 'blocklist' && request.method === 'GET')).toEqual([]);
    expect(requestsTo('no-listing.bin', isPutBlock)).toHaveLength(7);
  });

  it('sends a block again at once when the service answers 500, and goes on', async () => {
    azure.failNext({ method: 'PUT', comp: 'block', status: 500, code: 'InternalError' });

    await attemptUpload(module, destination({ filename: 'once-failed.bin' }), sourceOf(patternBytes(9 * MiB, 8)));

    expect(sha256((await azure.read('deliveries', 'once-failed.bin'))!)).toBe(sha256(patternBytes(9 * MiB, 8)));
    expect(requestsTo('once-failed.bin', isPutBlock)).toHaveLength(3);
  });

  it('continues after a commit whose blocks vanished (another client committed meanwhile): transient, then the next attempt stages again', async () => {
    const bytes = patternBytes(9 * MiB, 9);
    const resume = new MemoryResume<never>();
    azure.failNext({ method: 'PUT', comp: 'blocklist', status: 400, code: 'InvalidBlockList' });

    const first = await attemptFailure(module, destination({ filename: 'vanished.bin' }), sourceOf(bytes), { resume: resume as never });
    await attemptUpload(module, destination({ filename: 'vanished.bin' }), sourceOf(bytes), { resume: resume as never });

    expect(first).toBeInstanceOf(TransientError);
    expect(first.code).toBe('InvalidBlockList');
    expect(sha256((await azure.read('deliveries', 'vanished.bin'))!)).toBe(sha256(bytes));
  });
});

describe('Azure Blob destination: discarding a failed delivery', () => {
  it('discards staged blocks where no blob stands, leaving no blob behind', async () => {
    const resume = await stageBlocksOf('discarded.bin');
    expect(await azure.leftovers('deliveries')).toEqual(['discarded.bin: 2 uncommitted blocks']);

    await azureBlobUploader.discard!({ destination: destination({ filename: 'discarded.bin' }), state: resume.state!, signal: AbortSignal.timeout(10_000), network: localNetwork });

    expect(await azure.leftovers('deliveries')).toEqual([]);
    expect(await azure.read('deliveries', 'discarded.bin')).toBeUndefined();
    const commit = requestsTo('discarded.bin', isCommit).at(-1);
    expect(commit?.headers['if-none-match']).toBe('*');
  });

  it('leaves an existing blob as it is (its staged blocks expire on their own)', async () => {
    await attemptUpload(module, destination({ filename: 'kept.bin' }), sourceOf(patternBytes(1000, 4)));
    const resume = await stageBlocksOf('kept.bin');

    await azureBlobUploader.discard!({ destination: destination({ filename: 'kept.bin' }), state: resume.state!, signal: AbortSignal.timeout(10_000), network: localNetwork });

    expect(await azure.read('deliveries', 'kept.bin')).toEqual(patternBytes(1000, 4));
    expect(await azure.leftovers('deliveries')).toEqual(['kept.bin: 2 uncommitted blocks']);
    await blobClient('kept.bin').delete();
  });

  it('leaves the blocks when another upload is staging under the same name (its commit will discard them)', async () => {
    const resume = await stageBlocksOf('shared-name.bin');
    await attemptFailure(module, destination({ filename: 'shared-name.bin' }), sourceOf(patternBytes(40 * MiB, 14), { failsAt: 20 * MiB }));

    await azureBlobUploader.discard!({ destination: destination({ filename: 'shared-name.bin' }), state: resume.state!, signal: AbortSignal.timeout(10_000), network: localNetwork });

    expect(requestsTo('shared-name.bin', isCommit)).toEqual([]);
    expect(await azure.leftovers('deliveries')).toEqual(['shared-name.bin: 4 uncommitted blocks']);
    await blobClient('shared-name.bin').commitBlockList([]);
    await blobClient('shared-name.bin').delete();
  });

  it('discards staged blocks with a SAS that may delete but not read, leaving no blob behind', async () => {
    const fields = sasDestination('cwd', { filename: 'unreadable.bin' });
    const resume = new MemoryResume<never>();
    await attemptFailure(module, fields, sourceOf(patternBytes(40 * MiB, 15), { failsAt: 20 * MiB }), { resume: resume as never });
    expect(await azure.leftovers('deliveries')).toEqual(['unreadable.bin: 2 uncommitted blocks']);

    await azureBlobUploader.discard!({ destination: fields, state: resume.state!, signal: AbortSignal.timeout(10_000), network: localNetwork });

    expect(await azure.leftovers('deliveries')).toEqual([]);
    expect(await azure.read('deliveries', 'unreadable.bin')).toBeUndefined();
  });

  it('leaves a blob that stands there as it is, with a SAS that may delete but not read', async () => {
    await attemptUpload(module, destination({ filename: 'unreadable-kept.bin' }), sourceOf(patternBytes(1000, 16)));
    const fields = sasDestination('cwd', { filename: 'unreadable-kept.bin' });
    const resume = new MemoryResume<never>();
    await attemptFailure(module, fields, sourceOf(patternBytes(40 * MiB, 17), { failsAt: 20 * MiB }), { resume: resume as never });

    await azureBlobUploader.discard!({ destination: fields, state: resume.state!, signal: AbortSignal.timeout(10_000), network: localNetwork });

    expect(await azure.read('deliveries', 'unreadable-kept.bin')).toEqual(patternBytes(1000, 16));
    await blobClient('unreadable-kept.bin').delete();
  });

  it('leaves the blocks to expire when the SAS may not delete (an empty blob would stay)', async () => {
    const resume = await stageBlocksOf('undeletable.bin');

    await azureBlobUploader.discard!({
      destination: sasDestination('rcw', { filename: 'undeletable.bin' }),
      state: resume.state!,
      signal: AbortSignal.timeout(10_000),
      network: localNetwork,
    });

    expect(await azure.read('deliveries', 'undeletable.bin')).toBeUndefined();
    expect(requestsTo('undeletable.bin', isCommit)).toEqual([]);
    await blobClient('undeletable.bin').commitBlockList([]);
    await blobClient('undeletable.bin').delete();
  });
});

describe('Azure Blob destination: failures', () => {
  it('fails permanently when the key is wrong, naming what to check', async () => {
    const error = await attemptFailure(module, destination({ filename: 'bad-key.bin', key: Buffer.alloc(64, 1).toString('base64') }), sourceOf(patternBytes(10)));

    // Azurite answers AuthorizationFailure where Azure answers AuthenticationFailed (next case).
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.code).toBe('AuthorizationFailure');
    expect(error.message).toContain('check key');
  });

  it('fails permanently when Azure refuses the signature (AuthenticationFailed), naming what to check', async () => {
    azure.failNext({ method: 'PUT', status: 403, code: 'AuthenticationFailed' });

    const error = await attemptFailure(module, destination({ filename: 'refused-signature.bin' }), sourceOf(patternBytes(10)));

    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toContain('check key (the account access key)');
    expect(requestsTo('refused-signature.bin')).toHaveLength(1);
  });

  it('fails permanently when the container does not exist, saying to create it', async () => {
    const error = await attemptFailure(module, destination({ container: 'missing', filename: 'a.bin' }), sourceOf(patternBytes(10)));

    expect(error).toBeInstanceOf(PermanentError);
    expect(error.code).toBe('ContainerNotFound');
    expect(error.message).toContain('create it');
  });

  it.each([
    ['a small blob', 10],
    ['a block it refuses before reading it', 20 * MiB],
  ])('fails permanently when the SAS may not write (%s)', async (_case, size) => {
    const error = await attemptFailure(module, sasDestination('r', { filename: 'read-only.bin' }), sourceOf(patternBytes(size)));

    expect(error).toBeInstanceOf(PermanentError);
    expect(error.code).toBe('AuthorizationPermissionMismatch');
    expect(error.message).toMatch(/SAS/);
  });

  it('fails with the answer the service gave before reading a large block, not with the broken write that follows', async () => {
    azure.failNext({ method: 'PUT', comp: 'block', status: 403, code: 'AuthenticationFailed', beforeBody: true, times: 4 });

    const error = await attemptFailure(module, destination({ filename: 'refused-early.bin' }), sourceOf(patternBytes(40 * MiB)));

    expect(error).toBeInstanceOf(PermanentError);
    expect(error.code).toBe('AuthenticationFailed');
  });

  it('fails permanently when the blob is under a lease, saying how to free it', async () => {
    await attemptUpload(module, destination({ filename: 'leased.bin' }), sourceOf(patternBytes(10)));
    const lease = blobClient('leased.bin').getBlobLeaseClient();
    await lease.acquireLease(-1);

    const error = await attemptFailure(module, destination({ filename: 'leased.bin' }), sourceOf(patternBytes(20)));

    await lease.releaseLease();
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.code).toBe('LeaseIdMissing');
    expect(error.message).toContain('release or break it');
  });

  it('fails permanently when an immutability policy protects the blob', async () => {
    azure.failNext({ method: 'PUT', status: 409, code: 'BlobImmutableDueToPolicy' });

    const error = await attemptFailure(module, destination({ filename: 'immutable.bin' }), sourceOf(patternBytes(10)));

    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toContain('deliver to another filename');
    expect(error.cause).toBeDefined();
  });

  it("fails transiently when the service is busy, asking for the service's Retry-After", async () => {
    azure.failNext({ method: 'PUT', status: 503, code: 'ServerBusy', retryAfterSeconds: 45 });

    const error = await attemptFailure(module, destination({ filename: 'busy.bin' }), sourceOf(patternBytes(10)));

    expect(error).toBeInstanceOf(TransientError);
    expect(error.code).toBe('ServerBusy');
    expect((error as TransientError).retryAfterSeconds).toBe(45);
    expect(requestsTo('busy.bin', isPutBlob)).toHaveLength(1);
  });

  it('fails transiently after three tries when the service keeps failing', async () => {
    azure.failNext({ method: 'PUT', status: 500, code: 'OperationTimedOut', times: 3 });

    const error = await attemptFailure(module, destination({ filename: 'failing.bin' }), sourceOf(patternBytes(10)));

    expect(error).toBeInstanceOf(TransientError);
    expect(error.code).toBe('OperationTimedOut');
    expect(requestsTo('failing.bin', isPutBlob)).toHaveLength(3);
  });

  it('connects only where the network allows: refused at once, before any request, when private networks are not', async () => {
    const deployed = outboundNetwork({ allowPrivateNetworks: false });

    const error = await attemptFailure(module, destination({ filename: 'guarded.bin' }), sourceOf(patternBytes(10)), { network: deployed });

    expect(error).toBeInstanceOf(PermanentError);
    expect(error.code).toBe('EADDRNOTALLOWED');
    expect(requestsTo('guarded.bin')).toEqual([]);
  });

  it('never puts the key or the SAS signature in an error', async () => {
    const sas = sasDestination('r', { filename: 'secret.bin' });
    const errors = [
      await attemptFailure(module, sas, sourceOf(patternBytes(10))),
      await attemptFailure(module, destination({ container: 'missing', filename: 'a.bin' }), sourceOf(patternBytes(10))),
    ];

    const text = errors.map((error) => `${error.message} ${String((error.cause as Error).message)}`).join(' ');
    expect(text).not.toContain(new URLSearchParams(sas.sas_token).get('sig'));
    expect(text).not.toContain(azure.accountKey);
  });
});

describe('Azure Blob destination: probe', () => {
  it('fails the write check, naming the missing permission, for a SAS that may only read', async () => {
    const [check] = await azureBlobUploader.probe!({ destination: sasDestination('r', { filename: 'x' }), signal: AbortSignal.timeout(10_000), network: localNetwork });

    expect(check).toMatchObject({ name: 'write', ok: false, detail: expect.stringContaining('SAS') });
  });
});
