import { armSpread, httpDestinations, isStagedSourceRead, sourceSizeOf, streamDestinations } from './arming.ts';
import { deliveriesFor, KiB, MiB, type Scenario } from './scenario.ts';

/**
 * Servers that stop reading an upload, or stop sending a source, half-way and never resume: only
 * the client's idle timeout (or its function's deadline) gets the delivery going again.
 */
export const stallScenario: Scenario = {
  name: 'stall',
  description: 'a server that stops reading (or a source that stops sending) mid-transfer, for good',
  plan: (types, scale) => deliveriesFor('stall', types, scale === 'full' ? [64 * KiB, 9 * MiB + 17, 17 * MiB + 3] : [9 * MiB + 17]),
  arm: (context) => {
    for (const { destination, faults } of httpDestinations(context)) {
      armSpread(faults, context, {
        label: `${destination.type}: upload stalled`,
        times: 1,
        chance: 0.5,
        match: (head) => faults.isUpload(head) && Number(head.headers['content-length'] ?? 0) > 64 * KiB,
        fault: (head) => ({ kind: 'stall', direction: 'request', afterBytes: Math.floor(context.random() * Number(head.headers['content-length'])) }),
      });
    }
    for (const { destination, faults } of streamDestinations(context)) {
      faults.proxy.arm({ label: `${destination.type}: connection stalled`, times: 1, match: faults.isUpload, fault: () => ({ kind: 'stall', direction: 'up', afterBytes: 64 * KiB + Math.floor(context.random() * 8 * MiB) }) });
    }
    context.aws.s3.arm({
      label: 'staging source: download stalled',
      times: 1,
      match: (head) => isStagedSourceRead(head) && sourceSizeOf(head) > MiB,
      fault: (head) => ({ kind: 'stall', direction: 'response', afterBytes: Math.floor(context.random() * sourceSizeOf(head)) }),
    });
  },
};
