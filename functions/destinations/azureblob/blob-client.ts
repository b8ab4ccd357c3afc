import { createHash } from 'node:crypto';
import { blobUrl, type BlobLocation } from './account.ts';
import { AzureStorageError } from './errors.ts';
import type { BlobResponse, BlobTransport } from './transport.ts';

/** Headers that become the blob's properties, metadata, tags and tier when it is written. */
export type BlobWriteHeaders = Readonly<Record<string, string>>;

/** A stored blob's identity after a write. */
export interface WrittenBlob {
  readonly etag: string | undefined;
  /** Set when the account keeps blob versions. */
  readonly versionId: string | undefined;
}

/** The MD5 of `bytes`, base64: the `Content-MD5` the service checks a body against. */
export function md5Base64(bytes: Buffer): string {
  return createHash('md5').update(bytes).digest('base64');
}

const blockInXml = /<Block>\s*<Name>([^<]*)<\/Name>\s*<Size>(\d+)<\/Size>\s*<\/Block>/g;

function written(headers: Readonly<Record<string, string | undefined>>): WrittenBlob {
  return { etag: headers.etag, versionId: headers['x-ms-version-id'] };
}

function isNotFound(error: unknown): boolean {
  return error instanceof AzureStorageError && error.status === 404 && error.code !== 'ContainerNotFound';
}

/** The Blob service operations on one block blob that a delivery uses. */
export class BlockBlobClient {
  public readonly url: string;

  public constructor(
    private readonly transport: BlobTransport,
    location: BlobLocation,
  ) {
    this.url = blobUrl(location);
  }

  /**
   * Put Blob: the whole blob in one request, its MD5 checked by the service and kept as the blob's
   * Content-MD5, so a Put Blob whose answer was lost is found rather than sent again.
   */
  public async putBlob(body: Buffer, headers: BlobWriteHeaders, signal: AbortSignal, md5 = md5Base64(body)): Promise<WrittenBlob> {
    const response = await this.transport.send(
      {
        operation: 'Put Blob',
        method: 'PUT',
        url: this.url,
        body,
        headers: { ...headers, 'x-ms-blob-type': 'BlockBlob', 'content-md5': md5, 'x-ms-blob-content-md5': md5 },
        landed: () => this.withContent(md5, body.length, signal),
      },
      signal,
    );
    return written(response.headers);
  }

  /**
   * The blob's properties when it holds exactly the content of this MD5 and length, when known
   * (what a Put Blob of that content left); undefined otherwise.
   */
  public async withContent(md5: string, length: number | undefined, signal: AbortSignal): Promise<BlobResponse | undefined> {
    try {
      const response = await this.transport.send({ operation: 'Get Blob Properties', method: 'HEAD', url: this.url }, signal);
      const sameLength = length === undefined || Number(response.headers['content-length']) === length;
      return response.headers['content-md5'] === md5 && sameLength ? response : undefined;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /**
   * Get Block List (committed): the response when the blob is made of exactly these blocks, in
   * this order (what a Put Block List of them left); undefined otherwise.
   */
  public async committedAs(ids: readonly string[], signal: AbortSignal): Promise<BlobResponse | undefined> {
    const committed = await this.committedBlocks(signal);
    return committed.ids.length === ids.length && committed.ids.every((id, index) => id === ids[index]) ? committed.response : undefined;
  }

  /** Get Block List (committed): the blocks the blob is made of, in order (none when there is no blob). */
  public async committedBlocks(signal: AbortSignal): Promise<{ ids: string[]; response: BlobResponse | undefined }> {
    try {
      const response = await this.transport.send(
        { operation: 'Get Block List', method: 'GET', url: this.withQuery({ comp: 'blocklist', blocklisttype: 'committed' }) },
        signal,
      );
      return { ids: [...response.text.matchAll(blockInXml)].map((match) => match[1] ?? ''), response };
    } catch (error) {
      if (isNotFound(error)) return { ids: [], response: undefined };
      throw error;
    }
  }

  /** Put Block: stages one block under `id`, its MD5 checked by the service. Nothing is visible until committed. */
  public async putBlock(id: string, body: Buffer, signal: AbortSignal): Promise<void> {
    await this.transport.send(
      { operation: 'Put Block', method: 'PUT', url: this.withQuery({ comp: 'block', blockid: id }), body, headers: { 'content-md5': md5Base64(body) } },
      signal,
    );
  }

  /** Get Block List: the uncommitted blocks staged for the blob (none when there are none, or no blob). */
  public async uncommittedBlocks(signal: AbortSignal): Promise<{ id: string; size: number }[]> {
    try {
      const response = await this.transport.send(
        { operation: 'Get Block List', method: 'GET', url: this.withQuery({ comp: 'blocklist', blocklisttype: 'uncommitted' }) },
        signal,
      );
      return [...response.text.matchAll(blockInXml)].map((match) => ({ id: match[1] ?? '', size: Number(match[2]) }));
    } catch (error) {
      if (isNotFound(error)) return [];
      throw error;
    }
  }

  /**
   * Put Block List: makes the blob of these blocks, in this order; every other staged block is
   * discarded. After a lost answer the blob's committed blocks are looked at before it is sent
   * again (a second commit would write the blob again: a second version).
   */
  public async putBlockList(ids: readonly string[], headers: BlobWriteHeaders, signal: AbortSignal): Promise<WrittenBlob> {
    const body = Buffer.from(`<?xml version="1.0" encoding="utf-8"?><BlockList>${ids.map((id) => `<Latest>${id}</Latest>`).join('')}</BlockList>`, 'utf8');
    const response = await this.transport.send(
      {
        operation: 'Put Block List',
        method: 'PUT',
        url: this.withQuery({ comp: 'blocklist' }),
        body,
        headers: { ...headers, 'content-type': 'application/xml; charset=utf-8', 'content-md5': md5Base64(body) },
        landed: () => this.committedAs(ids, signal),
      },
      signal,
    );
    return written(response.headers);
  }

  /** Get Blob Properties: whether a committed blob stands under the name. */
  public async exists(signal: AbortSignal): Promise<boolean> {
    try {
      await this.transport.send({ operation: 'Get Blob Properties', method: 'HEAD', url: this.url }, signal);
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  /** Delete Blob, only while its ETag is `etag` (never a blob someone else wrote meanwhile). */
  public async deleteVersion(etag: string, signal: AbortSignal): Promise<void> {
    try {
      await this.transport.send({ operation: 'Delete Blob', method: 'DELETE', url: this.url, headers: { 'if-match': etag } }, signal);
    } catch (error) {
      if (isNotFound(error) || (error instanceof AzureStorageError && error.status === 412)) return;
      throw error;
    }
  }

  private withQuery(parameters: Readonly<Record<string, string>>): string {
    return `${this.url}?${new URLSearchParams(parameters).toString()}`;
  }
}
