import { classifyGeneric, isRetryableStatus, PermanentError, retryAfterSeconds, TransientError, type DeliveryError } from '../../../shared/destination/index.ts';

/** A Blob service answer other than success: its status, its error code and the service's message. */
export class AzureStorageError extends Error {
  public constructor(
    /** What was asked, e.g. `Put Block`. */
    public readonly operation: string,
    public readonly status: number,
    /** `x-ms-error-code` (or the XML body's `<Code>`), e.g. `ContainerNotFound`. */
    public readonly code: string,
    serviceMessage: string,
    /** The service's `x-ms-request-id`, for Azure support. */
    public readonly requestId: string | undefined,
    /** The `Retry-After` header, as sent. */
    public readonly retryAfter: string | undefined,
  ) {
    super(`${operation}: HTTP ${status} ${code}${serviceMessage ? `: ${serviceMessage}` : ''}${requestId ? ` (request id ${requestId})` : ''}`);
    this.name = 'AzureStorageError';
  }
}

/** Error codes that are configuration problems: each message says what to change. */
const permanentAdvice: Readonly<Record<string, string>> = {
  AuthenticationFailed:
    'the service refused the signature: check key (the account access key) and account, or sas_token (its signature and expiry, se=); a clock far off also causes this',
  InvalidAuthenticationInfo: 'the credentials are malformed: check key or sas_token',
  KeyBasedAuthenticationNotPermitted: 'the account does not allow Shared Key authorization: give a user delegation SAS in sas_token',
  AuthorizationFailure:
    "the request is not authorized: check key and account (or sas_token), and whether the account's network rules (firewall, private endpoints, public network access) admit this service",
  AuthorizationPermissionMismatch:
    'the SAS token lacks a permission the upload needs: w (write) or c (create), r to continue a retry, d to discard a failed one, and t when tags are given',
  AuthorizationResourceTypeMismatch: 'the account SAS does not cover objects: its srt must include o',
  AuthorizationServiceMismatch: 'the account SAS does not cover the Blob service: its ss must include b',
  AuthorizationProtocolMismatch: 'the SAS token allows HTTPS only: use an https:// endpoint',
  AuthorizationSourceIPMismatch: 'the SAS token allows other IP addresses only (sip): widen it, or leave it out',
  AccountIsDisabled: 'the storage account is disabled',
  ContainerNotFound: 'the container does not exist: create it, or correct container (and account or endpoint)',
  ContainerBeingDeleted: 'the container is being deleted: create it again or use another one',
  ContainerDisabled: 'the container has been disabled by an administrator',
  InvalidResourceName: 'the container or blob name is not valid in Azure: check container and filename',
  InvalidUri: 'the blob URL is not valid in Azure: check endpoint, container and filename',
  LeaseIdMissing: 'the blob has an active lease: release or break it (or wait for it to expire), or deliver to another filename',
  LeaseIdMismatchWithBlobOperation: 'the blob has an active lease held by someone else: release or break it, or deliver to another filename',
  LeaseNotPresentWithBlobOperation: 'the blob has no active lease, but the request named one',
  BlobImmutableDueToPolicy: 'a time-based retention (immutability) policy protects this blob from being overwritten: deliver to another filename',
  BlobImmutableDueToLegalHold: 'a legal hold protects this blob from being overwritten: deliver to another filename, or clear the hold',
  ContainerImmutabilityPolicyLocked: 'a locked immutability policy on the container forbids this: deliver to another container',
  ContainerHasLegalHold: 'a legal hold on the container forbids this: deliver to another container, or clear the hold',
  BlobOperationNotSupported: 'the blob was created through the Data Lake (dfs) API and cannot be written as blocks: deliver to another filename',
  BlockCountExceedsLimit: 'the blob holds 100,000 uncommitted blocks (left by other clients); they expire within a week: deliver to another filename meanwhile',
  InvalidBlobOrBlock:
    'the blob has uncommitted blocks staged by another client, with block ids of another length; they expire within a week: deliver to another filename meanwhile, or delete the blob to discard them',
  InvalidBlobTier: 'the account does not offer this access tier (premium accounts have none; Cold needs a general-purpose v2 account): change tier',
  BlobAccessTierNotSupportedForAccountType: 'the account type does not support access tiers: leave tier out',
  InsufficientAccountPermissions: 'the account does not allow this (e.g. an access tier on an account without tiers): leave tier out',
  InvalidMetadata: 'a metadata name or value is not accepted by Azure: change metadata',
  InvalidTag: 'a tag is not accepted by Azure: change tags',
  RequestBodyTooLarge: 'a request was larger than the service takes',
  UnsupportedHeader: 'the service does not support a header the upload sends (an older Azure Stack or emulator?): leave tier and tags out',
};

/**
 * Failures another attempt gets past: the service busy or failing, a block damaged in transit
 * (its MD5 did not match), or staged blocks gone (another client committed the blob meanwhile, or
 * they expired): the next attempt lists what is staged and sends the rest.
 */
const transientCodes = new Set(['ServerBusy', 'InternalError', 'OperationTimedOut', 'Md5Mismatch', 'Crc64Mismatch', 'InvalidBlockList']);

/** Decides whether a Blob service failure is worth another attempt; keeps the original as the cause. */
export function classifyAzureBlobError(error: unknown): DeliveryError {
  if (!(error instanceof AzureStorageError)) return classifyGeneric(error);
  const advice = permanentAdvice[error.code];
  if (advice) return new PermanentError(`Azure ${error.code}: ${advice}`, { code: error.code, cause: error });
  if (transientCodes.has(error.code) || isRetryableStatus(error.status)) {
    return new TransientError(`Azure ${error.message}`, { code: error.code, cause: error, retryAfterSeconds: retryAfterSeconds(error.retryAfter) });
  }
  return classifyGeneric(error, error.status, error.retryAfter);
}

/** Whether a request that failed this way may be sent again at once (the same bytes, the same answer expected). */
export function isWorthResending(error: unknown): boolean {
  const classified = classifyAzureBlobError(error);
  // Unknown failures (a bug) and vanished blocks need more than the same request again.
  return classified.retryable && classified.code !== 'InvalidBlockList' && classified.code !== 'Unexpected';
}
