import { config } from 'zod/mini';
import { en } from 'zod/locales';

/**
 * The schemas are zod/mini's (schemas without methods of their own build in half the time, which
 * is most of a function's cold start that zod takes), and zod/mini sets no language: the few
 * messages the schemas do not give themselves come in English, as classic zod's did. `fields.ts`
 * imports this file, and every module that declares schemas imports `fields.ts`.
 */
config(en());
