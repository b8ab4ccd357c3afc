import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

export type ToolStatus =
  | { readonly available: true; readonly path: string; readonly version: string; readonly installedNow: boolean }
  | { readonly available: false; readonly path: string; readonly reason: string };

async function executable(path: string): Promise<boolean> {
  return access(path, constants.X_OK).then(
    () => true,
    () => false,
  );
}

async function aptInstall(debianPackage: string): Promise<void> {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = (): Promise<unknown> => run('apt-get', ['install', '-y', '-q', debianPackage], { env, maxBuffer: 16 * 1024 * 1024 });
  try {
    await install();
  } catch {
    // A fresh machine has no package lists yet; fetch them once and try again.
    await run('apt-get', ['update', '-q'], { env, maxBuffer: 16 * 1024 * 1024 });
    await install();
  }
}

/**
 * Makes sure a Debian-packaged tool is there, installing it with apt-get when it is missing (the
 * bench must run on a fresh machine). The absolute path matters: another `aws` (e.g. a pip-installed
 * v1 under pyenv) may come first on PATH, and the bench compares against the Debian package.
 */
export async function ensureDebianTool(path: string, debianPackage: string, versionArgs: readonly string[] = ['--version']): Promise<ToolStatus> {
  let installedNow = false;
  if (!(await executable(path))) {
    try {
      await aptInstall(debianPackage);
      installedNow = true;
    } catch (error) {
      const detail = String((error as { stderr?: string }).stderr ?? error).trim().split('\n').slice(-3).join(' | ');
      return { available: false, path, reason: `apt-get install ${debianPackage} failed: ${detail}` };
    }
    if (!(await executable(path))) return { available: false, path, reason: `${debianPackage} installed but ${path} is missing` };
  }
  try {
    const { stdout, stderr } = await run(path, [...versionArgs]);
    return { available: true, path, version: (stdout || stderr).trim().split('\n')[0] ?? '', installedNow };
  } catch (error) {
    return { available: false, path, reason: `${path} ${versionArgs.join(' ')} failed: ${String(error)}` };
  }
}
