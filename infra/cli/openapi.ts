import { destinationTestSchema, uploadRequestSchema } from '../../functions/destinations/registry.ts';
import { openApiDocument } from '../../shared/contract/documents.ts';

/** `npm run --silent openapi > openapi.json`: the HTTP API's OpenAPI 3.0 document, from the schemas the ingress validates with. */
console.log(JSON.stringify(openApiDocument({ uploadRequest: uploadRequestSchema, destinationTest: destinationTestSchema }), null, 2));
