import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AzureBlobResumeState } from '../../functions/destinations/azureblob/block-upload.ts';
import { azureBlobDestination, azureBlobDestinationSchema } from '../../functions/destinations/azureblob/schema.ts';
import { azureBlobUploader } from '../../functions/destinations/azureblob/upload.ts';
import { startTestAzure, type TestAzure } from '../support/azure-storage.ts';
import { attemptFailure, attemptUpload } from '../support/attempts.ts';
import { startHttpFaultProxy, type HttpFaultProxy, type RequestHead } from '../support/fault-proxy/http-fault-proxy.ts';
import { MemoryResume, patternBytes, sha256, sourceOf } from '../support/sources.ts';

const MiB = 1024 * 1024;
const module = { definition: azureBlobDestination, uploader: azureBlobUploader };
let azure: TestAzure;
let proxy: HttpFaultProxy;

beforeAll(async () => {
  azure = await startTestAzure(['lost']);
  proxy = await startHttpFaultProxy({ upstreamPort: Number(new URL(azure.blobEndpoint).port) });
});

afterAll(async () => {
  await proxy.close();
  await azure.close();
});

beforeEach(() => {
  proxy.rules.clear();
});

function destination(filename: string) {
  return azureBlobDestinationSchema.parse({
    type: 'azureblob',
    account: azure.account,
    key: azure.accountKey,
    container: 'lost',
    filename,
    endpoint: `${proxy.url}/${azure.account}`,
  });
}

const isPutBlob = (name: string) => (head: RequestHead) => head.method === 'PUT' && head.path === `/${azure.account}/lost/${name}` && !head.query.has('comp');
const isPutBlockList = (name: string) => (head: RequestHead) => head.method === 'PUT' && head.path === `/${azure.account}/lost/${name}` && head.query.get('comp') === 'blocklist';
/** Writes of the blob the service carried out (answered 201), whether or not the answer arrived. */
const writes = (match: (head: RequestHead) => boolean) => proxy.exchanges.filter((exchange) => match(exchange) && exchange.status === 201).length;

/** An attempt the function's deadline ends once the service has carried out `match`'s request, its answer withheld. */
async function cutOffAfter(match: (head: RequestHead) => boolean, name: string, bytes: Buffer, resume: MemoryResume<AzureBlobResumeState>, size: number | undefined = bytes.length): Promise<void> {
  proxy.arm({ label: 'silent', match, fault: { kind: 'stall', direction: 'response', afterBytes: 0 } });
  const deadline = new AbortController();
  const watcher = setInterval(() => {
    if (writes(match) > 0) deadline.abort(new Error('the function timed out'));
  }, 20);
  await attemptFailure(module, destination(name), sourceOf(bytes, { size }), { resume, signal: deadline.signal }).finally(() => clearInterval(watcher));
}

describe('Azure Blob destination, answers lost after the service did the work', () => {
  it('writes a single Put Blob once when its answer is lost: it looks for the content, finds it, and does not send it again', async () => {
    const bytes = patternBytes(300_000, 71);
    proxy.arm({ label: 'lost', match: isPutBlob('lost-put.bin'), fault: { kind: 'lose-answer' } });

    await attemptUpload(module, destination('lost-put.bin'), sourceOf(bytes));

    expect(writes(isPutBlob('lost-put.bin'))).toBe(1);
    expect(sha256((await azure.read('lost', 'lost-put.bin'))!)).toBe(sha256(bytes));
  });

  it('commits a block list once when its answer is lost', async () => {
    const bytes = patternBytes(17 * MiB + 5, 72);
    proxy.arm({ label: 'lost', match: isPutBlockList('lost-commit.bin'), fault: { kind: 'lose-answer' } });

    await attemptUpload(module, destination('lost-commit.bin'), sourceOf(bytes));

    expect(writes(isPutBlockList('lost-commit.bin'))).toBe(1);
    expect(sha256((await azure.read('lost', 'lost-commit.bin'))!)).toBe(sha256(bytes));
  });

  it('lets the next attempt find the blob an attempt cut off had put, instead of sending it again', async () => {
    const bytes = patternBytes(300_000, 73);
    const resume = new MemoryResume<AzureBlobResumeState>();
    await cutOffAfter(isPutBlob('cut-off-put.bin'), 'cut-off-put.bin', bytes, resume);

    const delivered = await attemptUpload(module, destination('cut-off-put.bin'), sourceOf(bytes), { resume });

    expect(delivered.details).toMatchObject({ resumed_at: bytes.length });
    expect(writes(isPutBlob('cut-off-put.bin'))).toBe(1);
  });

  it('lets the next attempt find the blob an attempt cut off while committing had made, instead of uploading it again', async () => {
    const bytes = patternBytes(17 * MiB + 5, 74);
    const resume = new MemoryResume<AzureBlobResumeState>();
    await cutOffAfter(isPutBlockList('cut-off-commit.bin'), 'cut-off-commit.bin', bytes, resume);
    const before = proxy.exchanges.length;

    const delivered = await attemptUpload(module, destination('cut-off-commit.bin'), sourceOf(bytes), { resume });

    expect(delivered.details).toMatchObject({ resumed_at: bytes.length });
    expect(proxy.exchanges.slice(before).filter((exchange) => exchange.method === 'PUT')).toEqual([]);
    expect(sha256((await azure.read('lost', 'cut-off-commit.bin'))!)).toBe(sha256(bytes));
  });

  it.each([
    { size: 16 * MiB, shape: 'an exact multiple of the block size' },
    { size: 17 * MiB + 5, shape: 'not a multiple of the block size' },
  ])('lets the next attempt find the blob a cut-off commit had made from a source of unknown size, $shape', async ({ size }) => {
    const name = `cut-off-unsized-${size}.bin`;
    const bytes = patternBytes(size, 75);
    const resume = new MemoryResume<AzureBlobResumeState>();
    await cutOffAfter(isPutBlockList(name), name, bytes, resume, undefined);
    const before = proxy.exchanges.length;

    const delivered = await attemptUpload(module, destination(name), sourceOf(bytes, { size: undefined }), { resume });

    expect(delivered).toMatchObject({ bytes: bytes.length, details: { resumed_at: bytes.length } });
    expect(proxy.exchanges.slice(before).filter((exchange) => exchange.method === 'PUT')).toEqual([]);
    expect(sha256((await azure.read('lost', name))!)).toBe(sha256(bytes));
  });

  it('lets the next attempt find the blob a cut-off Put Blob had made from a source of unknown size', async () => {
    const bytes = patternBytes(300_000, 76);
    const resume = new MemoryResume<AzureBlobResumeState>();
    await cutOffAfter(isPutBlob('cut-off-unsized-put.bin'), 'cut-off-unsized-put.bin', bytes, resume, undefined);

    const delivered = await attemptUpload(module, destination('cut-off-unsized-put.bin'), sourceOf(bytes, { size: undefined }), { resume });

    expect(delivered).toMatchObject({ bytes: bytes.length, details: { resumed_at: bytes.length } });
    expect(writes(isPutBlob('cut-off-unsized-put.bin'))).toBe(1);
  });
});
