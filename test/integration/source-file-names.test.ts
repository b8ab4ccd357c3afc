import { PutObjectCommand } from '@aws-sdk/client-s3';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { azureBlobDestination, azureBlobDestinationSchema } from '../../functions/destinations/azureblob/schema.ts';
import { azureBlobUploader } from '../../functions/destinations/azureblob/upload.ts';
import { ftpDestination, ftpDestinationSchema } from '../../functions/destinations/ftp/schema.ts';
import { createFtpUploader } from '../../functions/destinations/ftp/upload.ts';
import { sftpDestination, sftpDestinationSchema } from '../../functions/destinations/sftp/schema.ts';
import { sftpUploader } from '../../functions/destinations/sftp/upload.ts';
import { SourceReader } from '../../shared/sources/delivery-source.ts';
import { SourceOpener } from '../../shared/sources/source-opener.ts';
import { StagingObjects } from '../../shared/sources/staging-objects.ts';
import { attemptUpload } from '../support/attempts.ts';
import { startTestAzure, type TestAzure } from '../support/azure-storage.ts';
import { startTestServer, type TestServer } from '../support/http-servers.ts';
import { startTestS3, type TestS3 } from '../support/local-s3.ts';
import { localNetwork } from '../support/network.ts';
import { startFtpServer, type TestFtpServer } from '../support/servers/ftp.ts';
import { startSftpServer, type TestSftpServer } from '../support/servers/sftp.ts';
import { patternBytes, sha256 } from '../support/sources.ts';

const bytes = patternBytes(1000, 3);
/** The Content-Disposition the source answers each path with (none for a path not listed). */
const dispositions = new Map<string, string>();
let source: TestServer;
let s3: TestS3;
let azure: TestAzure;
let ftp: TestFtpServer;
let sftp: TestSftpServer;
let opener: SourceOpener;
const ftpUploader = createFtpUploader();

beforeAll(async () => {
  [source, s3, azure, ftp, sftp] = await Promise.all([
    startTestServer((request, response) => {
      const disposition = dispositions.get(new URL(request.url ?? '/', 'http://source').pathname);
      response.writeHead(200, { 'content-length': String(bytes.length), ...(disposition === undefined ? {} : { 'content-disposition': disposition }) });
      // Sent before the body: with a buffer body, Node writes the head's characters other than as one byte each.
      response.flushHeaders();
      response.end(bytes);
    }),
    startTestS3(['staging']),
    startTestAzure(['deliveries']),
    startFtpServer(),
    startSftpServer(),
  ]);
  const credentials = { accessKeyId: s3.s3.accessKeyId, secretAccessKey: s3.s3.secretAccessKey };
  opener = new SourceOpener(new StagingObjects({ region: 'us-east-1', endpoint: s3.s3.endpoint, credentials }).get, localNetwork, { allowedSourceHosts: [] });
});

afterAll(async () => {
  await ftpUploader.shutdown?.();
  await Promise.all([source.close(), s3.close(), azure.close(), ftp.close(), sftp.close()]);
});

/** A source answered at `path` of the source server, with `disposition` when given, as a delivery opens it. */
async function urlSource(path: string, disposition?: string, extension?: string): Promise<SourceReader> {
  if (disposition !== undefined) dispositions.set(new URL(path, 'http://source').pathname, disposition);
  const from = { url: `${source.url}${path}` };
  const signal = AbortSignal.timeout(10_000);
  return new SourceReader(await opener.open(from, extension, signal), { reopen: (offset, bounds) => opener.open(from, extension, signal, offset, bounds) });
}

/** A header value that makes Node send `text` as raw UTF-8 (it writes each character of a header as one byte). */
function rawUtf8(text: string): string {
  return Buffer.from(text).toString('latin1');
}

describe('The name a source gives its file, for a folder filename', () => {
  it.each([
    ['a Content-Disposition filename of ..', '/a/render.mp4', 'attachment; filename=".."', 'file'],
    ['a Content-Disposition filename of .', '/a/render.mp4', 'attachment; filename="."', 'file'],
    ['.. percent-encoded in filename*', '/a/render.mp4', "attachment; filename*=UTF-8''%2E%2E", 'file'],
    ['a name of dots and spaces alone', '/a/render.mp4', 'attachment; filename=" . .. "', 'file'],
    ['.. as U+2025 TWO DOT LEADER, which NFKC makes ..', '/a/render.mp4', "attachment; filename*=UTF-8''%E2%80%A5", 'file'],
    ['an absolute path with ../ in it: its last segment', '/a/render.mp4', 'attachment; filename="/etc/../passwd"', 'passwd'],
    ['a Windows path', '/a/render.mp4', "attachment; filename*=UTF-8''..%5C..%5Cboot.ini", '.._.._boot.ini'],
    ['a fullwidth solidus (U+FF0F), which NFKC makes /', '/a/render.mp4', "attachment; filename*=UTF-8''..%EF%BC%8Fclip.mp4", '.._clip.mp4'],
    ['CR LF and NUL, percent-encoded', '/a/render.mp4', "attachment; filename*=UTF-8''a%0D%0ADELE%20x%00.mp4", 'a__DELE x_.mp4'],
    ['DEL and C1 controls', '/a/render.mp4', "attachment; filename*=UTF-8''a%7Fb%C2%85c.mp4", 'a_b_c.mp4'],
    ['a right-to-left override (U+202E) that shows clip<RLO>4pm.exe as clipexe.mp4', '/a/render.mp4', "attachment; filename*=UTF-8''clip%E2%80%AE4pm.exe", 'clip_4pm.exe'],
    ['trailing dots and spaces, which Windows servers and Azure drop', '/a/render.mp4', 'attachment; filename=" clip.mp4 . "', 'clip.mp4'],
    ['a Windows device name', '/a/render.mp4', 'attachment; filename="CON.mp4"', '_CON.mp4'],
    ['filename* with a language tag (RFC 8187)', '/a/render.mp4', "attachment; filename*=UTF-8'en'%E2%82%AC%20rates.pdf", '€ rates.pdf'],
    ['filename* in ISO-8859-1', '/a/render.mp4', "attachment; filename*=iso-8859-1'en'%A3%20rates.pdf", '£ rates.pdf'],
    ['filename* before filename, whichever comes first', '/a/render.mp4', "attachment; filename=\"rates.pdf\"; filename*=UTF-8''%E2%82%AC%20rates.pdf", '€ rates.pdf'],
    ['a plain filename in raw UTF-8', '/a/render.mp4', rawUtf8('attachment; filename="été.mp4"'), 'été.mp4'],
    ['a quoted filename holding ; and an escaped quote', '/a/render.mp4', 'attachment; filename="a;b \\"c\\".mp4"', 'a;b "c".mp4'],
    ['a URL path segment of %2e%2e%2f', '/a/%2e%2e%2fetc', undefined, '.._etc'],
    ['a URL path that ends in a folder', '/a/b/', undefined, 'b'],
  ])('%s', async (_case, path, disposition, name) => {
    const opened = await urlSource(path, disposition);
    opened.close();

    expect(opened.name).toBe(name);
  });

  it('keeps a name within 255 bytes of UTF-8, with its extension', async () => {
    const opened = await urlSource(`/a/${encodeURIComponent(`${'映'.repeat(120)}.mp4`)}`);
    opened.close();

    expect(Buffer.byteLength(opened.name)).toBeLessThanOrEqual(255);
    expect(opened.name).toBe(`${'映'.repeat(83)}.mp4`);
  });

  it("gives a name without an extension the job's extension, within the same 255 bytes", async () => {
    const opened = await urlSource(`/a/${'x'.repeat(300)}`, undefined, 'mp4');
    opened.close();

    expect(opened.name).toBe(`${'x'.repeat(251)}.mp4`);
  });

  it('cuts a long name without an extension so that it does not end in a space', async () => {
    const opened = await urlSource(`/a/${'x'.repeat(254)}%20${'y'.repeat(10)}`);
    opened.close();

    expect(opened.name).toBe('x'.repeat(254));
  });

  it('takes the name of an object as its key writes it: a presigned filename with %20 keeps it', async () => {
    const key = 'uploads/ud_token/report%20final.mp4';
    await s3.reader.send(new PutObjectCommand({ Bucket: 'staging', Key: key, Body: 'the bytes' }));

    const opened = await opener.open({ bucket: 'staging', key }, undefined, AbortSignal.timeout(10_000));
    opened.stream.destroy();

    expect(opened.name).toBe('report%20final.mp4');
  });
});

describe('A source named .. delivered into a folder stays in that folder', () => {
  const disposition = 'attachment; filename=".."';

  it('to Azure Blob: the blob named is the one the answer shows, inside the folder', async () => {
    const destination = azureBlobDestinationSchema.parse({
      type: 'azureblob',
      account: azure.account,
      key: azure.accountKey,
      container: 'deliveries',
      endpoint: azure.blobEndpoint,
      filename: 'renders/2025/',
    });

    const result = await attemptUpload({ definition: azureBlobDestination, uploader: azureBlobUploader }, destination, await urlSource('/dots/azure', disposition));

    const names: string[] = [];
    for await (const blob of azure.service.getContainerClient('deliveries').listBlobsFlat()) names.push(blob.name);
    expect(names).toEqual(['renders/2025/file']);
    expect(result.details).toMatchObject({ blob: 'renders/2025/file' });
    expect(sha256((await azure.read('deliveries', 'renders/2025/file'))!)).toBe(sha256(bytes));
  });

  it('to FTP', async () => {
    const destination = ftpDestinationSchema.parse({ type: 'ftp', host: `${ftp.host}:${ftp.port}`, filename: 'renders/2025/', user: ftp.user, password: ftp.password });

    const result = await attemptUpload({ definition: ftpDestination, uploader: ftpUploader }, destination, await urlSource('/dots/ftp', disposition));

    expect(result.details).toMatchObject({ path: 'renders/2025/file' });
    expect(await readdir(join(ftp.root, 'renders/2025'))).toEqual(['file']);
    expect(sha256(await readFile(join(ftp.root, 'renders/2025/file')))).toBe(sha256(bytes));
  });

  it('to SFTP', async () => {
    const destination = sftpDestinationSchema.parse({ type: 'sftp', host: sftp.host, port: sftp.port, user: sftp.user, password: sftp.password, filename: 'renders/2025/' });

    await attemptUpload({ definition: sftpDestination, uploader: sftpUploader }, destination, await urlSource('/dots/sftp', disposition));

    expect(await readdir(join(sftp.root, 'renders/2025'))).toEqual(['file']);
    expect(sha256(await readFile(join(sftp.root, 'renders/2025/file')))).toBe(sha256(bytes));
  });
});
