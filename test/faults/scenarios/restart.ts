import { uploadUnderWay } from './in-flight.ts';
import { deliveriesFor, MiB, until, type Scenario } from './scenario.ts';

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
  during: async (context) => {
    const restarts = context.scale === 'full' ? 2 : 1;
    for (let restart = 0; restart < restarts; restart += 1) {
      const busy = (): number => [...context.destinations.values()].filter((destination) => uploadUnderWay(destination, MiB)).length;
      const underWay = await until(() => context.finished() || busy() >= Math.min(3, context.destinations.size), 120_000);
      if (!underWay || context.finished()) return;
      context.log(`restarting the runtime with ${busy()} destinations mid-upload`);
      await context.runtime.pipeline.restart();
      context.count('runtime restarted mid-run');
      await new Promise((resolve) => setTimeout(resolve, 15_000));
    }
  },
};
