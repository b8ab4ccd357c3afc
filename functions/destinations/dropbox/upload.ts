import type { DeliverySource, DestinationAccess, ProbeCheck, ResumeSlot, StoredCredentials, Uploader } from '../../../shared/destination/index.ts';
import { accessTokenFor } from './auth.ts';
import { DropboxApi, DropboxApiError, type Fetch, type FileMetadata } from './client.ts';
import { commitInfo, commitOnce, verifyStored, type Commit } from './commit.ts';
import { blockDigests, ContentHasher, contentHashOf, hashBlockBytes } from './content-hash.ts';
import { dropboxEndpointsFrom, dropboxHosts, type DropboxEndpoints } from './endpoints.ts';
import { classifyDropboxError, errorBody, errorTags } from './errors.ts';
import { defaultRetrySettings, type RetrySettings } from './retry.ts';
import type { DropboxDestinationFields } from './schema.ts';
import { UploadSession, type DropboxResumeState } from './session.ts';

const MiB = 1024 * 1024;
/** Dropbox takes at most 150 MB in one request; the largest multiple of 4 MiB below that. */
const maxChunkBytes = 148 * MiB;

export interface DropboxUploaderSettings {
  /** Where Dropbox's API is. @default Dropbox's own hosts */
  readonly endpoints: DropboxEndpoints;
  /**
   * Bytes per request: a file up to this size is one `files/upload`, a larger one an upload
   * session of appends this size (a multiple of 4 MiB). Two are held in memory. @default 32 MiB
   */
  readonly chunkBytes: number;
  readonly retry: RetrySettings;
  /** @default the function network's fetch; tests that alter answers wrap it */
  readonly fetch?: Fetch;
}

/**
 * Chosen by measurement (`npm run bench -- --sections=dropbox`, README): into the fake on loopback,
 * 16, 32 and 64 MiB chunks move bytes equally fast within the noise, and peak memory grows with the
 * chunk (about 190, 255 and 330 MiB). What loopback cannot show is Dropbox's own cost per request
 * (each append is a round trip and a commit of its bytes, in series), which larger chunks spread
 * over more bytes: 32 MiB halves the requests of 16 MiB for 30 MiB more memory.
 */
export const defaultChunkBytes = 32 * MiB;

/** A path as Dropbox takes it: from its root, with a leading slash. */
export function dropboxPath(filename: string): string {
  return filename.startsWith('/') ? filename : `/${filename}`;
}

function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

/**
 * Where the owner sees the file on dropbox.com: its folder, with the file open in the preview.
 * (An app with App-folder access stores under `/Apps/<app name>/`, which the API's paths leave out.)
 */
export function dropboxWebUrl(pathDisplay: string): string {
  const slash = pathDisplay.lastIndexOf('/');
  return `https://www.dropbox.com/home${encodePath(pathDisplay.slice(0, slash))}?preview=${encodeURIComponent(pathDisplay.slice(slash + 1))}`;
}

/** The shared link to the file: a new one, or the one it already has. */
async function sharedLink(client: DropboxApi, stored: FileMetadata, signal: AbortSignal): Promise<string> {
  try {
    return (await client.rpc<{ url: string }>('sharing/create_shared_link_with_settings', { path: stored.path_lower ?? stored.id }, signal)).url;
  } catch (error) {
    const existing = error instanceof DropboxApiError && errorTags(error.body).includes('shared_link_already_exists') ? errorBody(error) : undefined;
    const metadata = (existing?.shared_link_already_exists as { metadata?: { url?: unknown } } | undefined)?.metadata;
    if (typeof metadata?.url === 'string') return metadata.url;
    throw error;
  }
}

/** Stored credentials and the app, when the caller of discard or probe has them. */
type Authorization = { readonly credentials?: StoredCredentials; readonly application?: Readonly<Record<string, string>> | undefined };

/**
 * An uploader of files into Dropbox. Files up to one chunk go in one `files/upload`; larger ones
 * through an upload session whose id is saved as soon as it exists, so a later attempt continues
 * it from the offset Dropbox confirms. Every request carries the content hash of its bytes, which
 * Dropbox checks before keeping them, and the stored file's content hash is checked against the
 * source's. A lost answer to the request that writes the file never makes a second file.
 *
 * @example
 * ```ts
 * const uploader = dropboxUploader({ endpoints: { api: fake.url, content: fake.url }, chunkBytes: 4 * 1024 * 1024 });
 * ```
 */
export function dropboxUploader(options: Partial<DropboxUploaderSettings> = {}): Uploader<DropboxDestinationFields, DropboxResumeState> {
  const settings: DropboxUploaderSettings = { endpoints: dropboxHosts, chunkBytes: defaultChunkBytes, retry: defaultRetrySettings, ...options };
  if (settings.chunkBytes % hashBlockBytes !== 0 || settings.chunkBytes <= 0 || settings.chunkBytes > maxChunkBytes) {
    throw new Error(`chunkBytes must be a multiple of 4 MiB up to ${maxChunkBytes / MiB} MiB, got ${settings.chunkBytes}`);
  }
  const session = (client: DropboxApi, commit: Commit, signal: AbortSignal): UploadSession => new UploadSession(client, commit, settings, signal);

  /** The client for a destination, or undefined when its token cannot be had here (auth_secret without stored credentials). */
  const clientFor = async (destination: DropboxDestinationFields, network: DestinationAccess<unknown>['network'], signal: AbortSignal, authorization: Authorization): Promise<DropboxApi | undefined> => {
    const transport = { endpoints: settings.endpoints, fetch: settings.fetch ?? network.fetch };
    const { credentials, application } = authorization;
    if (destination.oauth_token === undefined && !credentials) return undefined;
    const accessToken = await accessTokenFor(destination, { credentials, application, signal }, transport);
    return new DropboxApi(accessToken, transport.endpoints, transport.fetch);
  };

  /**
   * A file that fits in one chunk is one request; anything larger, or of unknown size past one
   * chunk, a session. So is any attempt after one that left a state: it continues that session,
   * or finds the file a lost answer wrote (see `UploadSession.send`).
   */
  const send = async (client: DropboxApi, commit: Commit, source: DeliverySource, resume: ResumeSlot<DropboxResumeState>, signal: AbortSignal) => {
    if (resume.state !== undefined || (source.size ?? 0) > settings.chunkBytes) return session(client, commit, signal).send(source, resume);
    const parts = source.parts(() => settings.chunkBytes);
    const first = await parts.next();
    const second = await parts.next();
    if (first.done) throw new Error('the source yields at least one part, if empty');
    if (!second.done) return session(client, commit, signal).send(source, resume, { parts, first: [first.value, second.value] });
    const bytes = first.value.bytes;
    const digests = blockDigests(bytes);
    const contentHash = contentHashOf(digests);
    // Saved before the request: should the attempt end before its answer (with autorename, sending
    // again would make a copy), the next one looks for the file first.
    const hasher = ContentHasher.from();
    hasher.add(digests);
    await resume.save({ path: commit.path, offset: bytes.length, contentHash: hasher.state });
    const stored = await commitOnce(
      client,
      commit,
      { size: bytes.length, contentHash },
      () => client.upload<FileMetadata>('files/upload', { ...commitInfo(commit), content_hash: contentHash }, bytes, signal),
      settings.retry,
      signal,
    );
    return { stored, size: bytes.length, contentHash, resumedAt: 0 };
  };

  return {
    async upload({ destination, source, signal, network, resume, credentials, application }) {
      const client = (await clientFor(destination, network, signal, { credentials, application }))!;
      const commit: Commit = { path: dropboxPath(destination.filename), mode: destination.mode, autorename: destination.autorename };
      const { stored, size, contentHash, resumedAt } = await send(client, commit, source, resume, signal);
      await verifyStored(client, stored, { size, contentHash }, signal);
      const path = stored.path_display ?? commit.path;
      const link = destination.shared_link ? await sharedLink(client, stored, signal) : undefined;
      return {
        url: link ?? dropboxWebUrl(path),
        details: {
          path,
          id: stored.id,
          rev: stored.rev,
          content_hash: contentHash,
          ...(resumedAt > 0 ? { resumed_at: resumedAt } : {}),
        },
        ...(stored.path_lower !== commit.path.toLowerCase() ? { notes: [`a different file was at ${commit.path}: stored as ${path} (autorename)`] } : {}),
      };
    },
    classify: classifyDropboxError,
    /**
     * Closes the session an attempt left. Its token comes from `oauth_token`; for `auth_secret` only
     * when the caller hands over the stored credentials (else the session simply expires: Dropbox
     * shows it nowhere and counts it against no space).
     */
    async discard(context: DestinationAccess<DropboxDestinationFields> & { readonly state: DropboxResumeState } & Authorization) {
      const client = await clientFor(context.destination, context.network, context.signal, context);
      if (!client) return;
      const commit: Commit = { path: context.state.path, mode: context.destination.mode, autorename: context.destination.autorename };
      await session(client, commit, context.signal).close(context.state);
    },
    /**
     * Checks the token and the two scopes a delivery needs without writing a file: starts an empty
     * upload session, closed at once (`files.content.write`), and reads the filename's metadata
     * (`files.metadata.read`, used to recover from lost answers).
     */
    async probe(context: DestinationAccess<DropboxDestinationFields> & Authorization): Promise<ProbeCheck[]> {
      const { destination, signal } = context;
      let client: DropboxApi | undefined;
      try {
        client = await clientFor(destination, context.network, signal, context);
      } catch (error) {
        return [{ name: 'credentials', ok: false, detail: classifyDropboxError(error).message }];
      }
      if (!client) return [{ name: 'credentials', ok: false, detail: 'auth_secret cannot be checked here: no stored credentials were handed to the probe' }];
      const checks: ProbeCheck[] = [];
      try {
        await client.upload('files/upload_session/start', { close: true }, new Uint8Array(0), signal);
        checks.push({ name: 'write', ok: true, detail: 'may upload (an empty upload session was started and closed; nothing written)' });
      } catch (error) {
        checks.push({ name: 'write', ok: false, detail: classifyDropboxError(error).message });
      }
      try {
        await client.rpc('files/get_metadata', { path: dropboxPath(destination.filename) }, signal).catch((error: unknown) => {
          if (!(error instanceof DropboxApiError && error.status === 409)) throw error;
        });
        checks.push({ name: 'metadata', ok: true, detail: 'may read metadata (to recover from lost answers)' });
      } catch (error) {
        checks.push({ name: 'metadata', ok: false, detail: classifyDropboxError(error).message });
      }
      return checks;
    },
  };
}

/** The function's uploader: Dropbox's hosts, unless the environment moved them (read once, at cold start). */
export const defaultDropboxUploader = dropboxUploader({ endpoints: dropboxEndpointsFrom(process.env) });
