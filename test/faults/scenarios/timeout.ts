import { deliveriesFor, MiB, type Scenario } from './scenario.ts';
import { armSlowLinks } from './slow-links.ts';

/**
 * The slow link's speed per upload to a destination (a destination's uploads share one link of this
 * times their number): a 48 MiB file outlasts an attempt (15 s of a 30 s timeout), while what an
 * upload has in flight at once (Dropbox's 32 MiB chunk, S3's and Azure's four 8 MiB parts) still
 * gets through within one, as it must: an upload none of whose requests can finish within an
 * attempt never moves, however many attempts it gets.
 */
const bytesPerSecondPerUpload = 3 * MiB;

/**
 * Uploads that outlast their function's timeout: a slow link to each destination (3 MiB/s per upload, shared
 * by its uploads) and a 30 s function timeout, so each attempt is cut at its deadline and the next
 * must continue where it stopped. HTTP is left out: the protocol cannot continue an upload, so one
 * longer than the function's timeout can never be delivered (README: limits).
 */
export const timeoutScenario: Scenario = {
  name: 'timeout',
  description: 'uploads that outlast the function timeout (a 3 MiB/s link per upload, 30 s timeout)',
  settings: { functionTimeoutSeconds: 30, visibilityTimeoutSeconds: 35 },
  plan: (types, scale) => deliveriesFor('timeout', types.filter((type) => type !== 'http'), scale === 'full' ? [48 * MiB + 3, 64 * MiB] : [48 * MiB + 3]),
  arm: (context, deliveries) => armSlowLinks(context, deliveries, bytesPerSecondPerUpload),
};
