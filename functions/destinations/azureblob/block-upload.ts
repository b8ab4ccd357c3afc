import { forEachConcurrently, type DeliverySource, type ResumeSlot, type SourcePart } from '../../../shared/destination/index.ts';
import { md5Base64, type BlobWriteHeaders, type BlockBlobClient, type WrittenBlob } from './blob-client.ts';
import { AzureStorageError } from './errors.ts';
import { blockId, blockSizer, defaultBlockSettings, newSession, parseBlockId, stagedPrefix, type BlockSettings, type StagedPrefix } from './blocks.ts';

/** What a later attempt needs to continue: the blob whose staged blocks it lists, and the upload's session. */
export interface AzureBlobResumeState {
  readonly container: string;
  readonly blob: string;
  /** Carried by the block ids of this upload (and by no other upload's). */
  readonly session: string;
  /**
   * The MD5 (base64) of a single Put Blob about to be sent: should the attempt end before its
   * answer, the next one looks for a blob with this content first.
   */
  readonly sentMd5?: string;
}

export interface StreamedBlob extends WrittenBlob {
  /** Blocks the blob was committed from; 0 for a single Put Blob. */
  readonly blocks: number;
  /** Bytes an earlier attempt had already staged. */
  readonly resumedAt: number;
}

/** The part's CRC-32 as a number (the source gives it as base64, big-endian). */
function crcOf(part: SourcePart): number {
  return Buffer.from(part.crc32, 'base64').readUInt32BE(0);
}

/** Where the blob is and how a delivery may see what is staged there. */
export interface BlockUploadTarget {
  readonly client: BlockBlobClient;
  readonly container: string;
  readonly blob: string;
  /** Whether the credentials may list staged blocks (a SAS without `r` may not): without it every attempt starts again. */
  readonly mayListBlocks: boolean;
}

/**
 * Streams the source into one block blob. A file that fits in one block is a single Put Blob;
 * a larger one is staged block by block, each with an MD5 the service checks, and appears only
 * when its block list is committed, so nothing partial ever stands under its name. Block ids
 * name the upload's session and each block's index, length and CRC-32, so when an attempt fails
 * the next one lists the staged blocks, reads the source on from the last of its own (a ranged
 * read, the CRC-32 of what it skips known from the ids) and sends only the rest.
 */
export async function streamToBlob(
  target: BlockUploadTarget,
  headers: BlobWriteHeaders,
  source: DeliverySource,
  resume: ResumeSlot<AzureBlobResumeState>,
  signal: AbortSignal,
  settings: BlockSettings = defaultBlockSettings,
): Promise<StreamedBlob> {
  const { client } = target;
  const sizeOf = blockSizer(source.size, settings);
  const earlier = resume.state?.container === target.container && resume.state.blob === target.blob && target.mayListBlocks ? resume.state : undefined;
  const session = earlier?.session ?? newSession();
  const staged: StagedPrefix | undefined = earlier ? stagedPrefix(await client.uncommittedBlocks(signal), session, sizeOf, source.size) : undefined;
  if (earlier && !staged?.blocks.length) {
    // Nothing of this upload is staged: an attempt whose answer was lost may have made the blob.
    const made = await madeBy(client, earlier, source.size, signal);
    if (made) return made;
  }

  let parts: AsyncGenerator<SourcePart>;
  let committed: string[];
  if (staged !== undefined && staged.blocks.length > 0) {
    committed = staged.blocks.map((block) => block.id);
    parts = source.parts((index) => sizeOf(committed.length + index), staged.start);
  } else {
    parts = source.parts(sizeOf);
    const first = await parts.next();
    if (first.done) throw new Error('the source yields at least one part, if empty');
    const firstPart = first.value;
    if (firstPart.bytes.length < sizeOf(0)) {
      // One block holds the whole file: a single request, nothing to resume. Reading on to the
      // end first runs the source's size check before anything is sent.
      await parts.next();
      const md5 = md5Base64(firstPart.bytes);
      await resume.save({ container: target.container, blob: target.blob, session, sentMd5: md5 });
      const stored = await client.putBlob(firstPart.bytes, headers, signal, md5);
      return { ...stored, blocks: 0, resumedAt: 0 };
    }
    if (!earlier) await resume.save({ container: target.container, blob: target.blob, session });
    committed = [];
    const remaining = parts;
    parts = (async function* () {
      yield firstPart;
      yield* remaining;
    })();
  }

  const firstIndex = committed.length;
  const sent = await forEachConcurrently<SourcePart, string>(
    parts,
    (part) => Math.max(1, Math.min(settings.concurrency, Math.floor(settings.maxBytesInFlight / Math.max(1, part.bytes.length)))),
    async (part, index) => {
      try {
        const id = blockId(session, firstIndex + index, crcOf(part), part.bytes.length);
        await client.putBlock(id, part.bytes, signal);
        return id;
      } finally {
        part.release();
      }
    },
  );
  const ids = [...committed, ...sent];
  const stored = await client.putBlockList(ids, headers, signal);
  return { ...stored, blocks: ids.length, resumedAt: staged?.start.offset ?? 0 };
}

/**
 * The blob an earlier attempt of this upload made, when one did: a Put Blob of the content it
 * noted, or a commit of this upload's blocks from the first on. Undefined when neither. A commit
 * goes out only once the source has ended, so such blocks are the whole file: a known size must
 * match them, and an unknown one (whose last block may be as long as the others) is theirs.
 */
async function madeBy(client: BlockBlobClient, earlier: AzureBlobResumeState, size: number | undefined, signal: AbortSignal): Promise<StreamedBlob | undefined> {
  if (earlier.sentMd5 !== undefined) {
    const found = await client.withContent(earlier.sentMd5, size, signal);
    return found ? { etag: found.headers.etag, versionId: found.headers['x-ms-version-id'], blocks: 0, resumedAt: Number(found.headers['content-length']) } : undefined;
  }
  const { ids, response } = await client.committedBlocks(signal);
  const blocks = ids.map(parseBlockId);
  const ours = blocks.length > 0 && blocks.every((block, index) => block?.session === earlier.session && block.index === index);
  const length = blocks.reduce((sum, block) => sum + (block?.length ?? 0), 0);
  return ours && (size === undefined || length === size) ? { etag: response?.headers.etag, versionId: undefined, blocks: blocks.length, resumedAt: length } : undefined;
}

/**
 * Discards the blocks a failed delivery staged. The service has no call for that: uncommitted
 * blocks go when the blob is committed or deleted, else after a week. So when no blob stands
 * under the name, an empty block list is committed there (only if still no blob does), which
 * discards them, and that empty blob is deleted at once (only while it is the one committed).
 * When a blob does stand there, it is left as it is, and the blocks expire; so they do when
 * another upload is staging blocks there too (its commit will discard ours).
 */
export async function discardStagedBlocks(target: BlockUploadTarget & { readonly mayDelete: boolean }, session: string, signal: AbortSignal): Promise<void> {
  const { client } = target;
  if (target.mayListBlocks) {
    const owners = new Set((await client.uncommittedBlocks(signal)).map(({ id }) => parseBlockId(id)?.session));
    if (!owners.has(session) || owners.size > 1) return;
  }
  // Without delete permission the empty blob would stay: better the blocks expire on their own.
  if (!target.mayDelete) return;
  // A SAS without read may not look (Get Blob Properties): the commit's If-None-Match refuses
  // all the same where a blob stands.
  if (target.mayListBlocks && (await client.exists(signal))) return;
  const empty = await client.putBlockList([], { 'if-none-match': '*' }, signal).catch((error: unknown) => {
    // Someone committed a blob there meanwhile: theirs stays, and so do the blocks, until they expire.
    if (error instanceof AzureStorageError && (error.status === 409 || error.status === 412)) return undefined;
    throw error;
  });
  if (empty?.etag !== undefined) await client.deleteVersion(empty.etag, signal);
}
