import { createHmac } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { blobLocationOf, blobUrl, credentialAllows, storageAccountOf } from '../../functions/destinations/azureblob/account.ts';
import { blockId, blockSizer, defaultBlockSettings, maxBlocks, maxBlockSize, newSession, parseBlockId, stagedPrefix } from '../../functions/destinations/azureblob/blocks.ts';
import { parseConnectionString } from '../../functions/destinations/azureblob/connection-string.ts';
import { AzureStorageError, classifyAzureBlobError } from '../../functions/destinations/azureblob/errors.ts';
import { azureBlobDestinationSchema } from '../../functions/destinations/azureblob/schema.ts';
import { sharedKeyAuthorization } from '../../functions/destinations/azureblob/shared-key.ts';
import { PermanentError, TransientError } from '../../shared/errors.ts';
import { patternBytes } from '../support/sources.ts';

const MiB = 1024 * 1024;
const key = Buffer.alloc(64, 7).toString('base64');

function destination(fields: Record<string, unknown>) {
  return azureBlobDestinationSchema.parse({ type: 'azureblob', account: 'acme', key, container: 'videos', filename: 'a.mp4', ...fields });
}

describe('Azure connection strings', () => {
  it("reads the portal's key connection string, endpoint suffix included (sovereign clouds)", () => {
    expect(parseConnectionString(`DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=${key};EndpointSuffix=core.chinacloudapi.cn`)).toEqual({
      account: 'acme',
      key,
      sasToken: undefined,
      endpoint: 'https://acme.blob.core.chinacloudapi.cn',
    });
  });

  it('reads a SAS connection string, whose Blob endpoint names the account', () => {
    const parsed = parseConnectionString('BlobEndpoint=https://acme.blob.core.windows.net/;SharedAccessSignature=?sv=2025-01-05&sp=cw&sig=abc%3D');

    expect(parsed).toEqual({ account: undefined, key: undefined, sasToken: 'sv=2025-01-05&sp=cw&sig=abc%3D', endpoint: 'https://acme.blob.core.windows.net' });
    expect(storageAccountOf(destination({ account: undefined, key: undefined, connection_string: 'BlobEndpoint=https://acme.blob.core.windows.net/;SharedAccessSignature=sv=1&sig=x' })).name).toBe('acme');
  });

  it('takes setting names in any case, and defaults to https and the public cloud', () => {
    expect(parseConnectionString(`accountname=acme;accountkey=${key}`).endpoint).toBe('https://acme.blob.core.windows.net');
  });
});

describe('Azure storage accounts and blob URLs', () => {
  it('addresses the public cloud by default', () => {
    const location = blobLocationOf(destination({ filename: 'renders/final cut+1.mp4' }));

    expect(blobUrl(location)).toBe('https://acme.blob.core.windows.net/videos/renders/final%20cut%2B1.mp4');
  });

  it('addresses an emulator path-style and a custom domain as given, and the root container explicitly', () => {
    expect(blobUrl(blobLocationOf(destination({ endpoint: 'http://127.0.0.1:10000/devstoreaccount1/', container: undefined })))).toBe(
      'http://127.0.0.1:10000/devstoreaccount1/$root/a.mp4',
    );
    expect(blobUrl(blobLocationOf(destination({ endpoint: 'https://files.example.com' })))).toBe('https://files.example.com/videos/a.mp4');
  });

  it('signs with the key, or adds the SAS token without its "?"', () => {
    expect(storageAccountOf(destination({})).credential).toEqual({ kind: 'key', key: Buffer.from(key, 'base64') });
    expect(storageAccountOf(destination({ key: undefined, sas_token: '?sv=1&sp=cw&sig=x' })).credential).toEqual({ kind: 'sas', token: 'sv=1&sp=cw&sig=x' });
  });

  it("reads what a SAS allows from its sp (a stored access policy's SAS says nothing: allowed until refused)", () => {
    const account = (token: string) => storageAccountOf(destination({ key: undefined, sas_token: token }));

    expect(credentialAllows(account('sv=1&sp=cw&sig=x'), 'r')).toBe(false);
    expect(credentialAllows(account('sv=1&sp=rcwd&sig=x'), 'd')).toBe(true);
    expect(credentialAllows(account('sv=1&si=policy&sig=x'), 'd')).toBe(true);
    expect(credentialAllows(storageAccountOf(destination({})), 'd')).toBe(true);
  });
});

describe('Shared Key signing', () => {
  it('signs the documented string: verb, standard headers, x-ms-* headers in the service order, account and path, sorted query', () => {
    const url = new URL('https://acme.blob.core.windows.net/videos/a%20b.mp4?comp=block&blockid=dWQx%2BLw%3D%3D');
    const headers = {
      'Content-Length': '5',
      'content-md5': 'XUFAKrxLKna5cZ2REBfFkg==',
      'x-ms-date': 'Thu, 26 Nov 2026 05:00:00 GMT',
      'x-ms-version': '2025-01-05',
      'x-ms-meta-b1': 'one',
      'x-ms-meta-b_1': ' two ',
    };

    const authorization = sharedKeyAuthorization('acme', Buffer.from(key, 'base64'), { method: 'put', url, headers });

    const expected = [
      'PUT',
      '',
      '',
      '5',
      'XUFAKrxLKna5cZ2REBfFkg==',
      '',
      '',
      '',
      '',
      '',
      '',
      '',
      // `_` sorts before digits, as the service's comparison has it.
      'x-ms-date:Thu, 26 Nov 2026 05:00:00 GMT',
      'x-ms-meta-b_1:two',
      'x-ms-meta-b1:one',
      'x-ms-version:2025-01-05',
      '/acme/videos/a%20b.mp4',
      'blockid:dWQx+Lw==',
      'comp:block',
    ].join('\n');
    expect(authorization).toBe(`SharedKey acme:${createHmac('sha256', Buffer.from(key, 'base64')).update(expected).digest('base64')}`);
  });

  it('signs a zero Content-Length as empty', () => {
    const url = new URL('https://acme.blob.core.windows.net/videos/a.mp4');
    const signed = (length: string) => sharedKeyAuthorization('acme', Buffer.from(key, 'base64'), { method: 'HEAD', url, headers: { 'content-length': length, 'x-ms-date': 'd' } });

    expect(signed('0')).toBe(signed(''));
  });
});

describe('Block ids and sizes', () => {
  it('cuts blocks so that any known size fits in 50,000, from 8 MiB up to 4,000 MiB', () => {
    for (const size of [0, 1, 8 * MiB, 400 * 1024 * MiB, 1024 * 1024 * MiB, 190 * 1024 * 1024 * MiB]) {
      const blockSize = blockSizer(size, defaultBlockSettings)(0);
      expect(blockSize).toBeGreaterThanOrEqual(8 * MiB);
      expect(blockSize).toBeLessThanOrEqual(maxBlockSize);
      expect(blockSize * maxBlocks).toBeGreaterThanOrEqual(size);
    }
  });

  it('doubles the blocks of a source of unknown size every 5,000, reaching past 38 TiB', () => {
    const sizeOf = blockSizer(undefined, defaultBlockSettings);
    let total = 0;
    for (let index = 0; index < maxBlocks; index += 1) total += sizeOf(index);

    expect(sizeOf(4999)).toBe(8 * MiB);
    expect(sizeOf(5000)).toBe(16 * MiB);
    expect(sizeOf(maxBlocks - 1)).toBe(maxBlockSize);
    expect(total).toBeGreaterThan(38 * 1024 * 1024 * MiB);
  });

  it('names session, index, CRC-32 and length in ids of one length, without base64 padding', () => {
    const session = newSession();
    const ids = [blockId(session, 0, 0, 1), blockId(session, 49_999, 0xffffffff, maxBlockSize), blockId(newSession(), 12, 0x1234abcd, 8 * MiB)];

    expect(session).toMatch(/^[0-9a-f]{8}$/);
    expect(new Set(ids.map((id) => id.length))).toEqual(new Set([44]));
    expect(ids.some((id) => id.includes('='))).toBe(false);
    expect(parseBlockId(ids[1]!)).toEqual({ id: ids[1], session, index: 49_999, crc32: 0xffffffff, length: maxBlockSize });
    expect(parseBlockId(Buffer.from('block-000001').toString('base64'))).toBeUndefined();
  });

  it('continues after the staged blocks of its session that follow each other from the start, with the CRC-32 of their bytes', () => {
    const bytes = patternBytes(3 * 1024 + 100);
    const sizeOf = () => 1024;
    const block = (index: number, length = 1024, session = 'abcdef01') => {
      const part = bytes.subarray(index * 1024, index * 1024 + length);
      return { id: blockId(session, index, crc32(part), part.length), size: part.length };
    };

    const gap = stagedPrefix([block(0), block(2), block(1), { id: 'Zm9yZWlnbg==', size: 3 }], 'abcdef01', sizeOf, bytes.length);
    const holed = stagedPrefix([block(0), block(2)], 'abcdef01', sizeOf, bytes.length);
    const whole = stagedPrefix([block(3, 100), block(1), block(0), block(2)], 'abcdef01', sizeOf, bytes.length);
    const another = stagedPrefix([block(0, 1024, '12345678'), block(1)], 'abcdef01', sizeOf, bytes.length);

    expect(gap.blocks.map((staged) => staged.index)).toEqual([0, 1, 2]);
    expect(gap.start).toEqual({ offset: 3072, crc32: crc32(bytes.subarray(0, 3072)) });
    expect(holed.start).toEqual({ offset: 1024, crc32: crc32(bytes.subarray(0, 1024)) });
    expect(whole.start).toEqual({ offset: bytes.length, crc32: crc32(bytes) });
    expect(another).toEqual({ blocks: [], start: { offset: 0 } });
  });

  it('sends a block again whose length is not what this upload cuts', () => {
    const sizeOf = () => 2048;

    expect(stagedPrefix([{ id: blockId('abcdef01', 0, 1, 1024), size: 1024 }], 'abcdef01', sizeOf, 10_000).blocks).toEqual([]);
    expect(stagedPrefix([{ id: blockId('abcdef01', 0, 1, 2048), size: 1000 }], 'abcdef01', sizeOf, 10_000).blocks).toEqual([]);
  });
});

describe('Azure Blob error classification', () => {
  const failure = (status: number, code: string, retryAfter?: string) => new AzureStorageError('Put Block', status, code, 'the message', 'request-1', retryAfter);

  it.each([
    [403, 'AuthenticationFailed'],
    [403, 'AuthorizationFailure'],
    [403, 'AuthorizationPermissionMismatch'],
    [403, 'KeyBasedAuthenticationNotPermitted'],
    [404, 'ContainerNotFound'],
    [412, 'LeaseIdMissing'],
    [409, 'LeaseIdMismatchWithBlobOperation'],
    [409, 'BlobImmutableDueToPolicy'],
    [409, 'BlobImmutableDueToLegalHold'],
    [409, 'BlockCountExceedsLimit'],
    [400, 'InvalidBlobOrBlock'],
    [400, 'InvalidBlobTier'],
    [400, 'InvalidHeaderValue'],
  ])('makes HTTP %i %s permanent, saying what to change', (status, code) => {
    const error = classifyAzureBlobError(failure(status, code));

    expect(error).toBeInstanceOf(PermanentError);
    expect(error.code).toBe(code === 'InvalidHeaderValue' ? 'HTTP400' : code);
    expect(error.cause).toBeInstanceOf(AzureStorageError);
  });

  it.each([
    [503, 'ServerBusy'],
    [500, 'InternalError'],
    [500, 'OperationTimedOut'],
    [400, 'Md5Mismatch'],
    [400, 'InvalidBlockList'],
    [429, 'TooManyRequests'],
    [502, 'HTTP502'],
  ])('makes HTTP %i %s transient', (status, code) => {
    expect(classifyAzureBlobError(failure(status, code))).toBeInstanceOf(TransientError);
  });

  it("keeps the service's Retry-After", () => {
    expect((classifyAzureBlobError(failure(503, 'ServerBusy', '12')) as TransientError).retryAfterSeconds).toBe(12);
  });

  it('makes timeouts and dropped connections transient', () => {
    expect(classifyAzureBlobError(Object.assign(new Error('Put Block: no answer for 120 s'), { code: 'ETIMEDOUT' }))).toBeInstanceOf(TransientError);
    expect(classifyAzureBlobError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBeInstanceOf(TransientError);
  });
});
