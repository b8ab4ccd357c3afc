import { armSpread, httpDestinations, isStagedSourceRead, offsetWithin, sourceSizeOf, streamDestinations } from './arming.ts';
import { deliveriesFor, faultBudget, KiB, MiB, type Scenario } from './scenario.ts';

/**
 * Connections reset at random byte offsets of uploads (every destination) and of source downloads
 * (the staging bucket and source URLs): each upload must continue from what the server kept.
 */
export const resetScenario: Scenario = {
  name: 'reset',
  description: 'connection resets at random byte offsets of uploads and source downloads',
  plan: (types, scale) => {
    const sizes = scale === 'full' ? [KiB, 64 * KiB, 1 * MiB + 7, 9 * MiB + 17, 17 * MiB + 3, 64 * MiB] : [64 * KiB, 9 * MiB + 17];
    const huge = scale === 'full' ? deliveriesFor('reset-huge', types.filter((type) => ['s3', 'azureblob', 'dropbox'].includes(type)), [256 * MiB]) : [];
    return [...deliveriesFor('reset', types, sizes), ...huge];
  },
  arm: (context) => {
    const budget = faultBudget(context.settings.maxAttempts);
    for (const { destination, faults } of httpDestinations(context)) {
      armSpread(faults, context, {
        label: `${destination.type}: upload reset`,
        times: budget,
        chance: 0.35,
        match: faults.isUpload,
        fault: (head) => ({ kind: 'reset', direction: 'request', afterBytes: offsetWithin(head, context.random) }),
      });
    }
    for (const { destination, faults } of streamDestinations(context)) {
      faults.proxy.arm({
        label: `${destination.type}: connection reset`,
        times: budget,
        match: faults.isUpload,
        // Past the handshake, within the larger files: a reset that comes later than a connection's
        // last byte is put back for the next connection.
        fault: () => ({ kind: 'reset', direction: 'up', afterBytes: 16 * KiB + Math.floor(context.random() * 12 * MiB) }),
      });
    }
    context.aws.s3.arm({
      label: 'staging source: download reset',
      times: 2,
      match: (head) => isStagedSourceRead(head) && sourceSizeOf(head) > 64 * KiB && context.random() < 0.3,
      fault: (head) => ({ kind: 'reset', direction: 'response', afterBytes: Math.floor(context.random() * sourceSizeOf(head)) }),
    });
    context.sources.proxy.arm({
      label: 'source URL: download reset',
      times: 2,
      match: (head) => sourceSizeOf(head) > 64 * KiB && context.random() < 0.5,
      fault: (head) => ({ kind: 'reset', direction: 'response', afterBytes: Math.floor(context.random() * sourceSizeOf(head)) }),
    });
  },
};
