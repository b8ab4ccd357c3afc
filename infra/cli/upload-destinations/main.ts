import { runCli } from './program.ts';

/** `npx upload-destinations …`: the CLI on this process's arguments, streams and environment. */
process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  terminal: process.stderr.isTTY === true,
});
