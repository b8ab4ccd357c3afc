import { destinationHandler } from '../../../shared/destination/index.ts';
import { azureBlobDestination } from './schema.ts';
import { azureBlobUploader } from './upload.ts';

export const handler = destinationHandler({ definition: azureBlobDestination, uploader: azureBlobUploader });
