import { SlowLink } from '../../support/fault-proxy/relay.ts';
import { deliveriesFor, MiB, type Scenario } from './scenario.ts';

/**
 * The slow link's speed, per destination (every upload to it shares it): a 48 MiB file outlasts an
 * attempt, while the largest single request of any destination (Dropbox's 32 MiB chunk) still fits
 * in one, as it must: a request the link cannot carry within an attempt never gets through.
 */
const bytesPerSecond = 3 * MiB;

/**
 * Uploads that outlast their function's timeout: a slow link to each destination (3 MiB/s, shared
 * by its uploads) and a 30 s function timeout, so each attempt is cut at its deadline and the next
 * must continue where it stopped. HTTP is left out: the protocol cannot continue an upload, so one
 * longer than the function's timeout can never be delivered (README: limits).
 */
export const timeoutScenario: Scenario = {
  name: 'timeout',
  description: 'uploads that outlast the function timeout (3 MiB/s link, 30 s timeout)',
  settings: { functionTimeoutSeconds: 30, visibilityTimeoutSeconds: 35 },
  plan: (types, scale) => deliveriesFor('timeout', types.filter((type) => type !== 'http'), scale === 'full' ? [48 * MiB + 3, 64 * MiB] : [48 * MiB + 3]),
  arm: (context) => {
    for (const destination of context.destinations.values()) {
      const link = new SlowLink(bytesPerSecond);
      const { faults } = destination;
      if (faults.kind === 'tcp') faults.proxy.arm({ label: `${destination.type}: slow link`, times: 100_000, fault: { kind: 'slow', link } });
      else faults.proxy.arm({ label: `${destination.type}: slow link`, times: 100_000, match: faults.isUpload, fault: { kind: 'slow', link } });
    }
  },
};
