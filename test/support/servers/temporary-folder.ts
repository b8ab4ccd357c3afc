import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh folder under the system's temporary folder, removed with everything in it by `remove()`. */
export interface TemporaryFolder {
  readonly path: string;
  remove(): Promise<void>;
}

/** Creates a temporary folder named `ud-<name>-XXXXXX` (mode 0700, owned by the test process's user). */
export async function createTemporaryFolder(name: string): Promise<TemporaryFolder> {
  const path = await mkdtemp(join(tmpdir(), `ud-${name}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}
