import { createDestinationTestSchema, createUploadRequestSchema } from '../../shared/contract/request.ts';
import type { DestinationDefinition } from '../../shared/destination/definition.ts';
import { azureBlobDestination } from './azureblob/schema.ts';
import { httpDestination } from './http/schema.ts';
import { dropboxDestination } from './dropbox/schema.ts';
import { facebookDestination } from './facebook/schema.ts';
import { ftpDestination } from './ftp/schema.ts';
import { s3Destination } from './s3/schema.ts';
import { sftpDestination } from './sftp/schema.ts';
import { youtubeDestination } from './youtube/schema.ts';

/**
 * Every destination the service delivers to. Adding one means adding its folder and a line here:
 * the request schema, the queues, the functions and the documents all follow from this list.
 */
export const destinations = [
  s3Destination,
  azureBlobDestination,
  youtubeDestination,
  facebookDestination,
  dropboxDestination,
  httpDestination,
  ftpDestination,
  sftpDestination,
] as const satisfies readonly DestinationDefinition[];

export type DestinationType = (typeof destinations)[number]['type'];

export const destinationTypes: readonly DestinationType[] = destinations.map((definition) => definition.type);

/** The request of `POST /v1/uploads`, of inbox messages and of manifests, for these destinations. */
export const uploadRequestSchema = createUploadRequestSchema(destinations);

/** The body of `POST /v1/destinations/test`, for these destinations. */
export const destinationTestSchema = createDestinationTestSchema(destinations);

export function destinationDefinition(type: string): DestinationDefinition {
  const definition = destinations.find((candidate) => candidate.type === type);
  if (!definition) {
    throw new Error(`unknown destination type '${type}'; supported: ${destinationTypes.join(', ')}`);
  }
  return definition as DestinationDefinition;
}
