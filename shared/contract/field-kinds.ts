import type * as z from 'zod/mini';
import { redactUrl, urlHoldsSecrets } from '../net/redact.ts';

/**
 * What the service must know about a destination field beyond its type, marked on the field's
 * schema itself so that nothing hand-kept can drift from the schema:
 * - `secret`: the whole value is a secret (sealed before it touches a queue or the table; may come
 *   from a stored `credentials` secret; never logged);
 * - `secret-entries`: a map whose entries named like secrets are (HTTP headers such as Authorization);
 * - `secret-url`: a URL that may hold a secret in its query (a presigned URL's signature) or its
 *   path (a webhook's token): holding one, it rests and travels as `redactUrl` shows it, and whole
 *   only sealed; it never comes from a stored secret, since the door checks where it points;
 * - `not-secret`: named like a secret but is not one (a KMS key's id), with the reason;
 * - `file-path`: a path at the destination; ending in `/` it names a folder, which the service
 *   completes with the source's file name before the upload sees it.
 */
export type FieldKind =
  | { readonly kind: 'secret' }
  | { readonly kind: 'secret-entries'; readonly isSecretEntry: (name: string) => boolean }
  | { readonly kind: 'secret-url' }
  | { readonly kind: 'not-secret'; readonly reason: string }
  | { readonly kind: 'file-path' };

/**
 * Marks live on a schema's definition object, under a symbol of their own: `.check()` (which
 * describes and refines) copies every property of that object into its copy's, so a mark survives
 * it; `z.optional()` and `z._default()` wrap it, and the wrappers are looked through. A field may so
 * be marked before or after it is described, refined or made optional.
 */
const markKey = Symbol('upload-destinations field kind');

type Marked = { [markKey]?: FieldKind; innerType?: z.ZodMiniType };

function definitionOf(schema: z.ZodMiniType): Marked {
  return schema._zod.def as Marked;
}

function markOf(field: z.ZodMiniType): FieldKind | undefined {
  for (let current: z.ZodMiniType | undefined = field; current; current = definitionOf(current).innerType) {
    const kind = definitionOf(current)[markKey];
    if (kind) return kind;
  }
  return undefined;
}

function mark<Schema extends z.ZodMiniType>(schema: Schema, kind: FieldKind): Schema {
  definitionOf(schema)[markKey] = kind;
  return schema;
}

/** Marks a destination field as a secret. */
export function secret<Schema extends z.ZodMiniType>(schema: Schema): Schema {
  return mark(schema, { kind: 'secret' });
}

/** Marks a map field whose entries named so that `isSecretEntry(name)` are secrets. */
export function secretEntries<Schema extends z.ZodMiniType>(schema: Schema, isSecretEntry: (name: string) => boolean): Schema {
  return mark(schema, { kind: 'secret-entries', isSecretEntry });
}

/** Marks a URL field whose query or path may hold a secret (see {@link FieldKind}). */
export function secretUrl<Schema extends z.ZodMiniType>(schema: Schema): Schema {
  return mark(schema, { kind: 'secret-url' });
}

/** Marks a field that is named like a secret but holds none, saying why. */
export function notSecret<Schema extends z.ZodMiniType>(schema: Schema, reason: string): Schema {
  return mark(schema, { kind: 'not-secret', reason });
}

/** Marks a field as a path at the destination (see {@link FieldKind}). */
export function markFilePath<Schema extends z.ZodMiniType>(schema: Schema): Schema {
  return mark(schema, { kind: 'file-path' });
}

/** The marked fields of a destination schema, by name. */
export function fieldKindsOf(schema: z.ZodMiniObject): ReadonlyMap<string, FieldKind> {
  const kinds = new Map<string, FieldKind>();
  for (const [name, field] of Object.entries(schema.shape)) {
    const kind = markOf(field as z.ZodMiniType);
    if (kind) kinds.set(name, kind);
  }
  return kinds;
}

function isSecretKind(kind: FieldKind): boolean {
  return kind.kind === 'secret' || kind.kind === 'secret-entries' || kind.kind === 'secret-url';
}

/** Names of the fields that hold secrets, wholly or in some of their entries. */
export function secretFieldNames(schema: z.ZodMiniObject): string[] {
  return [...fieldKindsOf(schema)].filter(([, kind]) => isSecretKind(kind)).map(([name]) => name);
}

type Fields = Readonly<Record<string, unknown>>;

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Splits a destination's fields into those that may travel and rest in clear and its secrets,
 * as the schema marks them. `undefined` values are dropped.
 */
export function splitSecrets(schema: z.ZodMiniObject, destination: Fields): { open: Record<string, unknown>; secrets: Record<string, unknown> } {
  const kinds = fieldKindsOf(schema);
  const open: Record<string, unknown> = {};
  const secrets: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(destination)) {
    if (value === undefined) continue;
    const kind = kinds.get(name);
    if (kind?.kind === 'secret') {
      secrets[name] = value;
    } else if (kind?.kind === 'secret-url' && typeof value === 'string' && urlHoldsSecrets(value)) {
      open[name] = redactUrl(value);
      secrets[name] = value;
    } else if (kind?.kind === 'secret-entries' && isMap(value)) {
      const entries = Object.entries(value);
      const hidden = entries.filter(([entry]) => kind.isSecretEntry(entry));
      const shown = entries.filter(([entry]) => !kind.isSecretEntry(entry));
      if (hidden.length > 0) secrets[name] = Object.fromEntries(hidden);
      if (shown.length > 0) open[name] = Object.fromEntries(shown);
    } else {
      open[name] = value;
    }
  }
  return { open, secrets };
}

/**
 * The destination whole again: its open fields with layers of secrets over them (stored, then
 * inline). Maps whose entries are secrets are merged entry by entry, so secret headers join the
 * open ones.
 */
export function mergeSecrets(schema: z.ZodMiniObject, open: Fields, ...layers: readonly Fields[]): Record<string, unknown> {
  const kinds = fieldKindsOf(schema);
  const merged: Record<string, unknown> = { ...open };
  for (const layer of layers) {
    for (const [name, value] of Object.entries(layer)) {
      const current = merged[name];
      merged[name] = kinds.get(name)?.kind === 'secret-entries' && isMap(current) && isMap(value) ? { ...current, ...value } : value;
    }
  }
  return merged;
}

/**
 * The fields a stored secret may hold for a destination: its secret fields. For a map of secret
 * entries, only entries named like secrets; a URL with a secret query never (the door checks where
 * it points).
 */
export function unexpectedSecretFields(schema: z.ZodMiniObject, stored: Fields): string[] {
  const kinds = fieldKindsOf(schema);
  return Object.entries(stored).flatMap(([name, value]) => {
    const kind = kinds.get(name);
    if (kind?.kind === 'secret') return [];
    if (kind?.kind === 'secret-entries' && isMap(value)) {
      return Object.keys(value).filter((entry) => !kind.isSecretEntry(entry)).map((entry) => `${name}.${entry}`);
    }
    return [name];
  });
}

/**
 * The destination with each folder path (ending in `/`) completed with the source's file name:
 * the rule every destination shares, applied once before its upload runs.
 */
export function withFolderPathsCompleted<Destination extends object>(schema: z.ZodMiniObject, destination: Destination, sourceName: string): Destination {
  const completed: Record<string, unknown> = { ...(destination as Record<string, unknown>) };
  for (const [name, kind] of fieldKindsOf(schema)) {
    const value = completed[name];
    if (kind.kind === 'file-path' && typeof value === 'string' && value.endsWith('/')) completed[name] = `${value}${sourceName}`;
  }
  return completed as Destination;
}
