import { uploadRequestSchema } from '../../functions/destinations/registry.ts';
import { openApiDocument } from '../../shared/contract/documents.ts';

/** `npm run --silent openapi > openapi.json`: the HTTP API's OpenAPI 3.0 document, from the request schema. */
console.log(JSON.stringify(openApiDocument(uploadRequestSchema), null, 2));
