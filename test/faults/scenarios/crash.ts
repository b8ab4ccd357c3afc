import { uploadsUnderWay, uploadUnderWay } from './in-flight.ts';
import { deliveriesFor, MiB, until, type Scenario } from './scenario.ts';

/**
 * A destination function's environment killed in the middle of an upload, as a Lambda crash, an
 * out-of-memory kill or a timeout ends it: nothing in the function gets to run, and the next
 * attempt must continue from what the destination kept (and the resume state saved before).
 */
export const crashScenario: Scenario = {
  name: 'crash',
  description: 'a function worker killed in the middle of an upload',
  plan: (types, scale) => deliveriesFor('crash', types, scale === 'full' ? [9 * MiB + 17, 33 * MiB + 5, 64 * MiB] : [17 * MiB + 3]),
  during: async (context) => {
    const crashesPerDestination = context.scale === 'full' ? 2 : 1;
    await Promise.all(
      [...context.destinations.values()].map(async (destination) => {
        // Its deliveries not yet called back: when each is past its first MiB, none is between
        // starting an upload session and saving it (README: limits), a window a crash would
        // otherwise hit now and then, since the function runs several deliveries at once.
        const pending = (): number => context.submitted().filter((delivery) => delivery.type === destination.type && !context.callbacks.received.has(delivery.token)).length;
        for (let crash = 0; crash < crashesPerDestination; ) {
          const underWay = await until(() => context.finished() || uploadUnderWay(destination, MiB), 120_000);
          if (!underWay || context.finished()) return;
          await until(() => context.finished() || uploadsUnderWay(destination, MiB) >= pending(), 30_000);
          if (context.finished()) return;
          // The uploads ended while it waited: the crash waits for the next one.
          if (!uploadUnderWay(destination, MiB)) continue;
          crash += 1;
          context.log(`crashing the ${destination.type} function mid-upload`);
          await context.runtime.crash(destination.type);
          context.count(`${destination.type}: function killed mid-upload`);
          await new Promise((resolve) => setTimeout(resolve, 5000));
        }
      }),
    );
  },
};
