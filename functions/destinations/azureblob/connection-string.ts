/** What an Azure Storage connection string says about the Blob service: where it is and how to sign. */
export interface ConnectionStringParts {
  readonly account: string | undefined;
  readonly key: string | undefined;
  readonly sasToken: string | undefined;
  /** The Blob service URL: `BlobEndpoint`, else built from the protocol, account and suffix. */
  readonly endpoint: string | undefined;
}

/** Why a connection string cannot be used, in words that never repeat its secret parts. */
export class ConnectionStringError extends Error {
  public constructor(message: string) {
    super(message);
    this.name = 'ConnectionStringError';
  }
}

const knownSettings = new Set([
  'DefaultEndpointsProtocol',
  'AccountName',
  'AccountKey',
  'SharedAccessSignature',
  'EndpointSuffix',
  'BlobEndpoint',
  'QueueEndpoint',
  'TableEndpoint',
  'FileEndpoint',
  'BlobSecondaryEndpoint',
  'QueueSecondaryEndpoint',
  'TableSecondaryEndpoint',
  'FileSecondaryEndpoint',
]);

/** `Name=value;Name=value;…` (a value may hold `=`, as keys and SAS tokens do), names case-insensitive. */
function settingsOf(text: string): Map<string, string> {
  const settings = new Map<string, string>();
  for (const pair of text.split(';')) {
    if (pair.trim() === '') continue;
    const equals = pair.indexOf('=');
    const name = pair.slice(0, equals).trim();
    const canonical = [...knownSettings].find((known) => known.toLowerCase() === name.toLowerCase());
    if (equals <= 0 || canonical === undefined) {
      throw new ConnectionStringError(
        equals <= 0 || name.toLowerCase() !== 'usedevelopmentstorage'
          ? `is not a storage connection string (each part is Name=value: AccountName, AccountKey or SharedAccessSignature, BlobEndpoint or EndpointSuffix)`
          : 'UseDevelopmentStorage is not supported: give AccountName, AccountKey and BlobEndpoint (e.g. http://127.0.0.1:10000/devstoreaccount1)',
      );
    }
    settings.set(canonical, pair.slice(equals + 1).trim());
  }
  return settings;
}

/**
 * Reads the connection string the Azure portal shows under "Access keys" (account name and key,
 * endpoint suffix for sovereign clouds) or under "Shared access signature" (a Blob endpoint and a
 * SAS token). Only what the Blob service needs is kept.
 *
 * @example
 * parseConnectionString('DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=…;EndpointSuffix=core.windows.net');
 * // → { account: 'acme', key: '…', sasToken: undefined, endpoint: 'https://acme.blob.core.windows.net' }
 */
export function parseConnectionString(text: string): ConnectionStringParts {
  const settings = settingsOf(text);
  const account = settings.get('AccountName') || undefined;
  const key = settings.get('AccountKey') || undefined;
  const sasToken = settings.get('SharedAccessSignature')?.replace(/^\?/, '') || undefined;
  const blobEndpoint = settings.get('BlobEndpoint') || undefined;
  if (key === undefined && sasToken === undefined) throw new ConnectionStringError('holds neither AccountKey nor SharedAccessSignature');
  if (key !== undefined && sasToken !== undefined) throw new ConnectionStringError('holds both AccountKey and SharedAccessSignature; keep one');
  if (key !== undefined && account === undefined) throw new ConnectionStringError('has an AccountKey but no AccountName');
  if (blobEndpoint !== undefined && !/^https?:\/\/[^\s?#]+$/.test(blobEndpoint)) {
    throw new ConnectionStringError('has a BlobEndpoint that is not an http:// or https:// URL without a query');
  }
  const protocol = settings.get('DefaultEndpointsProtocol')?.toLowerCase() ?? 'https';
  if (protocol !== 'https' && protocol !== 'http') throw new ConnectionStringError('has a DefaultEndpointsProtocol other than https or http');
  const suffix = settings.get('EndpointSuffix') ?? 'core.windows.net';
  const endpoint = blobEndpoint ?? (account === undefined ? undefined : `${protocol}://${account}.blob.${suffix}`);
  if (endpoint === undefined) throw new ConnectionStringError('names no Blob service: give BlobEndpoint, or AccountName');
  return { account, key, sasToken, endpoint: endpoint.replace(/\/+$/, '') };
}
