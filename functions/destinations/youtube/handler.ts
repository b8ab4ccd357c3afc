import { destinationHandler } from '../../../shared/destination/index.ts';
import { youtubeDestination } from './schema.ts';
import { youtubeUploaderFromEnvironment } from './upload.ts';

export const handler = destinationHandler({ definition: youtubeDestination, uploader: youtubeUploaderFromEnvironment });
