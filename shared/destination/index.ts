/**
 * Everything a destination folder may use of the shared code, and nothing else: its definition
 * and uploader types, the field kinds its schema marks, the errors and classifiers, the streaming
 * helpers and the Lambda handler. Destinations import this file only (lint enforces it), so the
 * shared code can change behind it.
 */
export type {
  ApplicationSecret,
  DestinationCapabilities,
  DestinationDefinition,
  DestinationEndpoint,
  DestinationLambdaSettings,
  PermissionStatement,
} from './definition.ts';
export type {
  DeliverySource,
  DestinationAccess,
  ProbeCheck,
  ResumeSlot,
  SourcePart,
  SourceRange,
  SourceRangeRead,
  SourceStart,
  StoredCredentials,
  UploadContext,
  Uploader,
  UploadResult,
} from './uploader.ts';
export { notSecret, secret, secretEntries, secretUrl } from '../contract/field-kinds.ts';
export {
  alsoWithFieldErrors,
  count,
  credentialsReference,
  credentialText,
  filePath,
  headerValue,
  httpUrl,
  metadataMap,
  nonEmpty,
  textOfScalar,
  withoutControlCharacters,
} from '../contract/fields.ts';
export { namesAFile, namesWithinBytes, temporaryNameFor } from './file-names.ts';
export { DeliveryError, PermanentError, TransientError, WaitError, describeError } from '../errors.ts';
export { classifyGeneric, classifyNetworkFailure, isRetryableStatus, retryAfterSeconds } from '../delivery/classify.ts';
export { crc32Base64, crc32Combine } from '../delivery/checksum.ts';
export type { OutboundNetwork } from '../net/outbound-network.ts';
export { basicAuthorization, discardAnswer, type OutgoingRequest } from '../net/http-client.ts';
export { hostMatches } from '../net/host-patterns.ts';
export { maskedPath, pathTokens } from '../net/redact.ts';
export { guardedHttpAgent, guardedHttpsAgent } from '../net/guarded-agents.ts';
export { guardedConnect, guardedTlsConnect, type NetworkPolicy } from '../net/guarded-connect.ts';
export { awsServiceEndpoint } from '../net/aws-endpoints.ts';
export { isRetryableAwsRefusal, withAwsRetries, withinTime } from '../net/aws-retry.ts';
export { answerText, escapeUri, queryString, requestToSign, sendSigned } from '../net/sigv4-request.ts';
export { escapeXml, xmlElements, xmlText } from '../net/xml-text.ts';
export { batchedWrites } from '../streams/batched-writes.ts';
export { BufferPool } from '../streams/buffer-pool.ts';
export { feed } from '../streams/feed.ts';
export { releaseChunk } from '../streams/reused-chunks.ts';
export { forEachConcurrently } from '../streams/parallel.ts';
export { destinationHandler } from '../lambda/destination-handler.ts';
