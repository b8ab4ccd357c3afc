import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultSettings, runFaults } from './harness/run-faults.ts';
import type { FaultResults } from './report/results.ts';
import { renderResults } from './report/table.ts';
import { scenarios } from './scenarios/index.ts';
import { fullLoad, loadScenario, smallLoad } from './scenarios/load.ts';

/**
 * `npm run faults`: every fault scenario and the load against the local runtime, counted from the
 * servers' side; writes fault-results/latest.json and prints the tables. `--scenario=a,b` runs the
 * named ones alone (`load` is one of them), `--small` the small version `npm test` runs.
 */
const { values } = parseArgs({
  options: {
    scenario: { type: 'string' },
    small: { type: 'boolean', default: false },
    seed: { type: 'string', default: '12' },
    destinations: { type: 'string' },
    out: { type: 'string', default: 'fault-results/latest.json' },
    'drain-seconds': { type: 'string', default: '600' },
    help: { type: 'boolean', default: false },
  },
});
const load = loadScenario(values.small ? smallLoad : fullLoad);
const all = [...scenarios, load];
if (values.help) {
  console.log(`usage: npm run faults -- [--scenario=NAME[,NAME]] [--small] [--seed=N] [--destinations=TYPE,…] [--out=FILE]\nscenarios: ${all.map((scenario) => scenario.name).join(', ')}`);
  process.exit(0);
}
const names = values.scenario?.split(',').map((name) => name.trim()).filter(Boolean);
const unknown = (names ?? []).filter((name) => !all.some((scenario) => scenario.name === name));
if (unknown.length > 0) {
  console.error(`unknown scenario(s) ${unknown.join(', ')}; known: ${all.map((scenario) => scenario.name).join(', ')}`);
  process.exit(2);
}
const chosen = names ? all.filter((scenario) => names.includes(scenario.name)) : all;
const started = Date.now();
const log = (line: string): void => {
  process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${line}\n`);
};
const save = async (results: FaultResults): Promise<void> => {
  await mkdir(dirname(values.out), { recursive: true });
  await writeFile(values.out, `${JSON.stringify(results, null, 2)}\n`);
};
await mkdir(dirname(values.out), { recursive: true });
// The functions' own logs, beside the results: where a problem the tables show is explained.
const functionLog = createWriteStream(values.out.replace(/\.json$/, '') + '.functions.log');
const results = await runFaults({
  functionLog: (text) => functionLog.write(text),
  scenarios: chosen,
  scale: values.small ? 'small' : 'full',
  seed: Number(values.seed),
  settings: defaultSettings,
  ...(values.destinations ? { destinations: values.destinations.split(',') } : {}),
  drainSeconds: Number(values['drain-seconds']),
  onProgress: save,
  log,
});
await save(results);
functionLog.end();
console.log(`\n${renderResults(results)}\n\nWritten to ${values.out}.`);
for (const skipped of results.skipped) console.log(`Left out: ${skipped.what} (${skipped.reason})`);
if (results.targets.some((target) => !target.met)) process.exitCode = 1;
