import { destinationHandler } from '../../../shared/destination/index.ts';
import { dropboxDestination } from './schema.ts';
import { defaultDropboxUploader } from './upload.ts';

export const handler = destinationHandler({ definition: dropboxDestination, uploader: defaultDropboxUploader });
