import type { DestinationAccess, NetworkPolicy, ProbeCheck, Uploader } from '../../../shared/destination/index.ts';
import { blobLocationOf, credentialAllows, type BlobLocation } from './account.ts';
import { BlockBlobClient, type BlobWriteHeaders } from './blob-client.ts';
import { discardStagedBlocks, streamToBlob, type AzureBlobResumeState, type BlockUploadTarget } from './block-upload.ts';
import { blockId } from './blocks.ts';
import { AzureStorageError, classifyAzureBlobError } from './errors.ts';
import type { AzureBlobDestinationFields } from './schema.ts';
import { BlobTransport } from './transport.ts';

/**
 * The headers that make the blob what the destination asks for: its properties (the seeds'
 * default content type is application/octet-stream), metadata, index tags and access tier.
 */
export function blobWriteHeaders(destination: AzureBlobDestinationFields): BlobWriteHeaders {
  const headers: Record<string, string> = { 'x-ms-blob-content-type': destination.contenttype ?? 'application/octet-stream' };
  const properties = {
    'x-ms-blob-content-disposition': destination.contentdisposition,
    'x-ms-blob-content-encoding': destination.contentencoding,
    'x-ms-blob-content-language': destination.contentlanguage,
    'x-ms-blob-cache-control': destination.cachecontrol,
    'x-ms-access-tier': destination.tier,
  };
  for (const [name, value] of Object.entries(properties)) if (value !== undefined) headers[name] = value;
  for (const [name, value] of Object.entries(destination.metadata ?? {})) headers[`x-ms-meta-${name}`] = value;
  const tags = Object.entries(destination.tags ?? {});
  if (tags.length > 0) headers['x-ms-tags'] = tags.map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`).join('&');
  return headers;
}

function targetOf(location: BlobLocation, network: NetworkPolicy): BlockUploadTarget & { readonly mayDelete: boolean } {
  return {
    client: new BlockBlobClient(new BlobTransport(location.account, network), location),
    container: location.container,
    blob: location.name,
    mayListBlocks: credentialAllows(location.account, 'r'),
    mayDelete: credentialAllows(location.account, 'd'),
  };
}

/** A blob name no delivery uses: the probe's commit is refused there, so nothing is written. */
const probeBlob = '.upload-destinations-probe';

/**
 * Delivers to Azure Blob Storage as a block blob. Staged blocks of an attempt that failed part-way
 * are continued by the next attempt; they are discarded when the delivery finally fails.
 */
export const azureBlobUploader: Uploader<AzureBlobDestinationFields, AzureBlobResumeState> = {
  async upload({ destination, source, signal, network, resume }) {
    const location = blobLocationOf(destination);
    const target = targetOf(location, network);
    const stored = await streamToBlob(target, blobWriteHeaders(destination), source, resume, signal);
    const notes = target.mayListBlocks ? [] : ['the SAS token has no read (r) permission: a retry sends every block again instead of continuing'];
    return {
      url: target.client.url,
      details: {
        container: location.container,
        blob: location.name,
        blocks: stored.blocks,
        ...(stored.etag === undefined ? {} : { etag: stored.etag }),
        ...(stored.versionId === undefined ? {} : { version_id: stored.versionId }),
        ...(stored.resumedAt > 0 ? { resumed_at: stored.resumedAt } : {}),
      },
      ...(notes.length > 0 ? { notes } : {}),
    };
  },
  classify: classifyAzureBlobError,
  async discard({ destination, state, signal, network }) {
    const location = { ...blobLocationOf(destination), container: state.container, name: state.blob };
    await discardStagedBlocks(targetOf(location, network), state.session, signal);
  },
  /**
   * Commits, under a name no delivery uses, a block list naming a block that was never staged,
   * with the headers a delivery sends: the service checks the credentials, the container, the
   * permissions (tags included) and the headers, then refuses the list. Nothing is written.
   */
  async probe({ destination, signal, network }: DestinationAccess<AzureBlobDestinationFields>): Promise<ProbeCheck[]> {
    const location = blobLocationOf(destination, probeBlob);
    const { client } = targetOf(location, network);
    const where = `${location.account.name}/${location.container}`;
    try {
      await client.putBlockList([blockId('00000000', 0, 0, 0)], blobWriteHeaders(destination), signal);
      return [{ name: 'write', ok: false, detail: `the service committed a block that was never staged in ${where}: it does not behave as Azure Blob Storage` }];
    } catch (error) {
      if (error instanceof AzureStorageError && error.code === 'InvalidBlockList') {
        return [{ name: 'write', ok: true, detail: `may write to ${where} (a commit naming no staged block was refused, as expected; nothing written)` }];
      }
      return [{ name: 'write', ok: false, detail: classifyAzureBlobError(error).message }];
    }
  },
};
