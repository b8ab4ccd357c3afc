import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { TaggedUnion } from './dropbox-errors.ts';
import { randomDigits, randomIdentifier } from './identifiers.ts';
import type { StoredBytes } from './stored-bytes.ts';

/** A file stored in the fake's Dropbox. */
export interface DropboxFile {
  readonly id: string;
  readonly pathDisplay: string;
  readonly pathLower: string;
  readonly name: string;
  readonly rev: string;
  readonly size: number;
  readonly contentHash: string;
  readonly clientModified: string;
  readonly serverModified: string;
  readonly bytes: StoredBytes;
  /** The URL of its shared link, once one was created. */
  sharedLink: string | undefined;
}

/** `CommitInfo` of `files/upload` and `upload_session/finish`, read from the request. */
export interface CommitInfo {
  readonly path: string;
  readonly mode: { readonly tag: 'add' } | { readonly tag: 'overwrite' } | { readonly tag: 'update'; readonly rev: string };
  readonly autorename: boolean;
  readonly strictConflict: boolean;
  readonly clientModified: string | undefined;
}

/** Where a commit will write, or that it changes nothing because identical content is there. */
export type CommitPlan =
  | { readonly kind: 'write'; readonly pathDisplay: string; readonly replaces: DropboxFile | undefined }
  | { readonly kind: 'unchanged'; readonly file: DropboxFile };

/** Whether `plan` gave a plan rather than a `WriteError`. */
export function isCommitPlan(value: CommitPlan | TaggedUnion): value is CommitPlan {
  return value.kind === 'write' || value.kind === 'unchanged';
}

/** Names Dropbox refuses to store: system files it never syncs. */
const disallowedNames = new Set(['desktop.ini', 'thumbs.db', '.ds_store', 'icon\r', '.dropbox', '.dropbox.attr']);

/** The Dropbox time format: seconds, UTC, no fraction. */
function dropboxTime(date = new Date()): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

function parentOf(pathLower: string): string {
  return pathLower.slice(0, pathLower.lastIndexOf('/'));
}

/** `a.mp4` → `a (n).mp4`, as autorename names the copy. */
function renamed(pathDisplay: string, attempt: number): string {
  const slash = pathDisplay.lastIndexOf('/');
  const name = pathDisplay.slice(slash + 1);
  const dot = name.lastIndexOf('.');
  const [stem, extension] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  return `${pathDisplay.slice(0, slash + 1)}${stem} (${attempt})${extension}`;
}

/**
 * The files of one Dropbox account. Paths are case-insensitive as at Dropbox; folders exist
 * implicitly, as the parents of files. Write modes follow the documented rules: `add` never
 * overwrites, `overwrite` always does, `update` only the given revision; identical content is no
 * conflict unless `strict_conflict`; autorename names the copy `name (1).ext`, `name (2).ext`, ….
 */
export class DropboxNamespace {
  readonly files = new Map<string, DropboxFile>();
  readonly #folderIds = new Map<string, string>();
  readonly #directory: string;
  readonly #allocatedBytes: number;

  constructor(directory: string, allocatedBytes: number) {
    this.#directory = directory;
    this.#allocatedBytes = allocatedBytes;
  }

  get usedBytes(): number {
    return [...this.files.values()].reduce((sum, file) => sum + file.size, 0);
  }

  get allocatedBytes(): number {
    return this.#allocatedBytes;
  }

  /** The file or implicit folder at `path` (a path or `id:…`), as Dropbox `Metadata`. */
  metadata(path: string): TaggedUnion | undefined {
    const file = this.#file(path);
    if (file) return { '.tag': 'file', ...fileMetadata(file) };
    const lower = path.toLowerCase();
    const inside = [...this.files.values()].find((candidate) => candidate.pathLower.startsWith(`${lower}/`));
    if (!inside) return undefined;
    const pathDisplay = inside.pathDisplay.slice(0, path.length);
    return { '.tag': 'folder', name: pathDisplay.slice(pathDisplay.lastIndexOf('/') + 1), path_lower: lower, path_display: pathDisplay, id: this.#folderId(lower) };
  }

  /** The stored file at `path` (a path or `id:…`). */
  file(path: string): DropboxFile | undefined {
    return this.#file(path);
  }

  /** Decides where a commit of `size` bytes with `contentHash` goes, or the `WriteError` it meets. */
  plan(commit: CommitInfo, size: number, contentHash: string): CommitPlan | TaggedUnion {
    const malformed = malformedPath(commit.path);
    if (malformed) return malformed;
    const lower = commit.path.toLowerCase();
    for (let parent = parentOf(lower); parent !== ''; parent = parentOf(parent)) {
      if (this.files.has(parent)) return conflict('file_ancestor');
    }
    const existing = this.files.get(lower);
    const isFolder = !existing && [...this.files.keys()].some((key) => key.startsWith(`${lower}/`));
    const identical = existing !== undefined && !commit.strictConflict && existing.contentHash === contentHash;
    if (identical && existing) return { kind: 'unchanged', file: existing };
    let conflictKind: 'file' | 'folder' | undefined = isFolder ? 'folder' : undefined;
    if (existing && (commit.mode.tag === 'add' || (commit.mode.tag === 'update' && commit.mode.rev !== existing.rev))) conflictKind = 'file';
    if (!existing && !isFolder && commit.mode.tag === 'update' && commit.strictConflict) conflictKind = 'file';
    const target = conflictKind === undefined ? commit.path : commit.autorename ? this.#freeName(commit.path) : undefined;
    if (target === undefined) return conflict(conflictKind ?? 'file');
    const replaces = this.files.get(target.toLowerCase());
    if (this.usedBytes - (replaces?.size ?? 0) + size > this.#allocatedBytes) return { '.tag': 'insufficient_space' };
    return { kind: 'write', pathDisplay: target, replaces };
  }

  /** Stores `bytes` as planned; they move into the namespace's own file, no copy. */
  async store(plan: CommitPlan & { kind: 'write' }, bytes: StoredBytes, size: number, contentHash: string, clientModified: string | undefined): Promise<DropboxFile> {
    const serverModified = dropboxTime();
    const file: DropboxFile = {
      id: plan.replaces?.id ?? `id:${randomIdentifier(22)}`,
      pathDisplay: plan.pathDisplay,
      pathLower: plan.pathDisplay.toLowerCase(),
      name: plan.pathDisplay.slice(plan.pathDisplay.lastIndexOf('/') + 1),
      rev: randomIdentifier(15, '0123456789abcdef'),
      size,
      contentHash,
      clientModified: clientModified ?? serverModified,
      serverModified,
      bytes,
      sharedLink: plan.replaces?.sharedLink,
    };
    if (plan.replaces) await rm(plan.replaces.bytes.path, { force: true });
    await bytes.moveTo(join(this.#directory, `dropbox-file-${file.rev}`));
    this.files.set(file.pathLower, file);
    return file;
  }

  /** Deletes the file or folder at `path`; its `Metadata`, or undefined when nothing is there. */
  async delete(path: string): Promise<TaggedUnion | undefined> {
    const metadata = this.metadata(path);
    if (!metadata) return undefined;
    const lower = String(metadata.path_lower);
    for (const [key, file] of this.files) {
      if (key === lower || key.startsWith(`${lower}/`)) {
        this.files.delete(key);
        await rm(file.bytes.path, { force: true });
      }
    }
    return metadata;
  }

  #file(path: string): DropboxFile | undefined {
    if (path.startsWith('id:')) return [...this.files.values()].find((file) => file.id === path);
    return this.files.get(path.toLowerCase());
  }

  #freeName(pathDisplay: string): string {
    for (let attempt = 1; ; attempt += 1) {
      const candidate = renamed(pathDisplay, attempt).toLowerCase();
      if (!this.files.has(candidate) && ![...this.files.keys()].some((key) => key.startsWith(`${candidate}/`))) return renamed(pathDisplay, attempt);
    }
  }

  #folderId(pathLower: string): string {
    let id = this.#folderIds.get(pathLower);
    if (!id) {
      id = `id:${randomIdentifier(22)}`;
      this.#folderIds.set(pathLower, id);
    }
    return id;
  }
}

/** `FileMetadata` of a stored file, as upload results carry it (without `.tag`). */
export function fileMetadata(file: DropboxFile): Record<string, unknown> {
  return {
    name: file.name,
    path_lower: file.pathLower,
    path_display: file.pathDisplay,
    id: file.id,
    client_modified: file.clientModified,
    server_modified: file.serverModified,
    rev: file.rev,
    size: file.size,
    is_downloadable: true,
    content_hash: file.contentHash,
  };
}

/** A new shared link URL for a file, in the current `scl` shape. */
export function sharedLinkUrl(file: DropboxFile): string {
  return `https://www.dropbox.com/scl/fi/${randomIdentifier(21, 'abcdefghijklmnopqrstuvwxyz0123456789')}/${encodeURIComponent(file.name)}?rlkey=${randomDigits(8)}&dl=0`;
}

function conflict(kind: 'file' | 'folder' | 'file_ancestor'): TaggedUnion {
  return { '.tag': 'conflict', conflict: { '.tag': kind } };
}

/** The `WriteError` for a path Dropbox cannot write: empty or `.` / `..` components, a trailing slash, a system file name. */
function malformedPath(path: string): TaggedUnion | undefined {
  const components = path.split('/').slice(1);
  if (!path.startsWith('/') || components.some((component) => component === '' || component === '.' || component === '..')) {
    return { '.tag': 'malformed_path' };
  }
  const name = components[components.length - 1] ?? '';
  return disallowedNames.has(name.toLowerCase()) ? { '.tag': 'disallowed_name' } : undefined;
}
