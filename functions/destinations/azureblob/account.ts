import { isIP } from 'node:net';
import { parseConnectionString } from './connection-string.ts';
import { rootContainer, type AzureBlobDestinationFields } from './schema.ts';

/** How requests are authorized: Shared Key (the account key signs each request) or a SAS token. */
export type AccountCredential = { readonly kind: 'key'; readonly key: Buffer } | { readonly kind: 'sas'; readonly token: string };

/** A storage account as the requests see it: its name, its Blob service URL and how to sign in. */
export interface StorageAccount {
  readonly name: string;
  /** The Blob service URL without a trailing slash: `https://acme.blob.core.windows.net`, `http://127.0.0.1:10000/devstoreaccount1`. */
  readonly endpoint: string;
  readonly credential: AccountCredential;
}

/** Where a blob is: its account, container and name. */
export interface BlobLocation {
  readonly account: StorageAccount;
  readonly container: string;
  /** The blob name, without a leading "/". */
  readonly name: string;
}

/**
 * The account named by an endpoint, as Azure's clients read it: the first label of
 * `<account>.blob.<suffix>`, or the first path segment of an IP or localhost URL (Azurite's
 * `http://127.0.0.1:10000/devstoreaccount1`).
 */
function accountOfEndpoint(endpoint: string): string | undefined {
  const url = new URL(endpoint);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) !== 0 || host === 'localhost') return url.pathname.split('/')[1] || undefined;
  return /^([a-z0-9]{3,24})\.blob\./.exec(host)?.[1];
}

/**
 * The account a validated destination writes to, from its fields or its connection string (the
 * schema has made sure one of them names the account and one way to sign in).
 */
export function storageAccountOf(destination: AzureBlobDestinationFields): StorageAccount {
  const connection = destination.connection_string === undefined ? undefined : parseConnectionString(destination.connection_string);
  const explicitEndpoint = (connection?.endpoint ?? destination.endpoint)?.replace(/\/+$/, '');
  const name = destination.account ?? connection?.account ?? (explicitEndpoint === undefined ? undefined : accountOfEndpoint(explicitEndpoint));
  if (name === undefined) throw new TypeError('the destination names no storage account');
  const key = destination.key ?? connection?.key;
  const token = destination.sas_token ?? connection?.sasToken;
  const credential: AccountCredential =
    key !== undefined ? { kind: 'key', key: Buffer.from(key, 'base64') } : { kind: 'sas', token: (token ?? '').replace(/^\?/, '') };
  return { name, endpoint: explicitEndpoint ?? `https://${name}.blob.core.windows.net`, credential };
}

/** The blob a destination names: its container (the root container by default) and blob name. */
export function blobLocationOf(destination: AzureBlobDestinationFields, blobName: string = destination.filename): BlobLocation {
  return { account: storageAccountOf(destination), container: destination.container ?? rootContainer, name: blobName.replace(/^\/+/, '') };
}

/** The blob's URL, its name percent-encoded segment by segment, with no SAS in it. */
export function blobUrl(location: BlobLocation): string {
  const path = location.name.split('/').map(encodeURIComponent).join('/');
  return `${location.account.endpoint}/${location.container}/${path}`;
}

/**
 * Whether the account's credential allows an operation whose SAS permission letter is `letter`
 * (`r` read, `d` delete…): always with the account key; with a SAS, when its `sp` lists the letter
 * (or when it lists none, as a SAS bound to a stored access policy, which only the service knows).
 */
export function credentialAllows(account: StorageAccount, letter: string): boolean {
  if (account.credential.kind === 'key') return true;
  const permissions = new URLSearchParams(account.credential.token).get('sp');
  return permissions === null || permissions.includes(letter);
}
