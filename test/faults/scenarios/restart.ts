import type { FaultDestination } from '../destinations/fault-destination.ts';
import { uploadUnderWay } from './in-flight.ts';
import { deliveriesFor, MiB, until, type Scenario } from './scenario.ts';
import { armSlowLinks } from './slow-links.ts';

/**
 * Each upload's share of a slow link to its destination: uploads last seconds, not a fraction of
 * one, so the restart finds several under way (on loopback a 17 MiB upload is over before the
 * restart can catch it, and the scenario acted nothing out). In the full run a 256 MiB HTTP upload,
 * which cannot continue, still fits in the function's 60 s.
 */
const bytesPerSecondPerUpload = { small: 4 * MiB, full: 8 * MiB };

/**
 * The whole runtime restarted while uploads are under way: every function environment ends
 * mid-invocation and cold-starts, and the event sources start polling anew.
 */
export const restartScenario: Scenario = {
  name: 'restart',
  description: 'the whole local runtime restarted mid-run, uploads under way',
  plan: (types, scale) => {
    if (scale === 'small') return deliveriesFor('restart', types, [17 * MiB + 3]);
    const huge = deliveriesFor('restart-huge', types.filter((type) => ['youtube', 'sftp', 'http'].includes(type)), [256 * MiB]);
    return [...deliveriesFor('restart', types, [1 * MiB + 7, 17 * MiB + 3, 64 * MiB]), ...huge];
  },
  arm: (context, deliveries) => armSlowLinks(context, deliveries, bytesPerSecondPerUpload[context.scale]),
  during: async (context) => {
    const restarts = context.scale === 'full' ? 2 : 1;
    for (let restart = 0; restart < restarts; restart += 1) {
      const busy = (): number => [...context.destinations.values()].filter((destination) => uploadUnderWay(destination, MiB)).length;
      // Destinations with a delivery not yet called back: if each of them is past its first MiB,
      // none is between starting an upload session and saving it (README: limits), a window the
      // restart would otherwise often hit, since sessions start as the other uploads get going.
      const waiting = (): FaultDestination[] => {
        const types = new Set(context.submitted().filter((delivery) => !context.callbacks.received.has(delivery.token)).map((delivery) => delivery.type));
        return [...context.destinations.values()].filter((destination) => types.has(destination.type));
      };
      const enough = (): boolean => busy() >= Math.min(3, context.destinations.size);
      await until(() => context.finished() || (enough() && waiting().every((destination) => uploadUnderWay(destination, MiB))), 30_000);
      const underWay = await until(() => context.finished() || enough(), 120_000);
      if (!underWay || context.finished()) return;
      context.log(`restarting the runtime with ${busy()} destinations mid-upload`);
      await context.runtime.pipeline.restart();
      context.count('runtime restarted mid-run');
      await new Promise((resolve) => setTimeout(resolve, 15_000));
    }
  },
};
