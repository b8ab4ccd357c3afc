import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalFunction } from '../../infra/local/local-function.ts';

let directory: string;
let entry: string;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'ud-local-function-'));
  const file = join(directory, 'handler.mjs');
  // An event of { hang: true } never ends, as a stuck upload does; any other answers at once.
  await writeFile(file, 'export const handler = (event) => (event.hang ? new Promise(() => {}) : Promise.resolve({ echoed: event }));\n');
  entry = pathToFileURL(file).href;
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('Class: LocalFunction', () => {
  it('ends its environment at the timeout, tells onCrash once the thread has stopped, and cold-starts for the next invocation', async () => {
    // Prepare
    const crashes: string[] = [];
    const fn = await LocalFunction.start({ entry, functionName: 'hangs', timeoutSeconds: 1, environment: {}, onCrash: (reason) => crashes.push(reason) });

    try {
      // Act
      const stuck = fn.invoke({ hang: true });

      // Assess
      await expect(stuck).rejects.toThrow('hangs: Task timed out after 1 seconds');
      await expect(fn.invoke({ hang: false })).resolves.toEqual({ echoed: { hang: false } });
      expect(crashes).toEqual(['Task timed out after 1 seconds']);
    } finally {
      await fn.stop();
    }
  });

  it('does not tell onCrash when it is stopped', async () => {
    const crashes: string[] = [];
    const fn = await LocalFunction.start({ entry, functionName: 'stops', timeoutSeconds: 5, environment: {}, onCrash: (reason) => crashes.push(reason) });

    await fn.stop();

    expect(crashes).toEqual([]);
  });
});
