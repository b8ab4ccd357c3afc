// Runs before `npm start` and `npm test` (as prestart/pretest), on whatever Node the machine has:
// a fresh clone gets its dependencies, Node 22 among them, so the two commands are all the setup.
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';

if (!existsSync(new URL('../../node_modules/.bin/tsx', import.meta.url))) {
  console.log('Installing dependencies (first run)…');
  execSync('npm ci --no-audit --no-fund', { stdio: 'inherit', cwd: new URL('../..', import.meta.url) });
}
