import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';

/** A system program the test servers run, and the Debian package that installs it. */
export interface Program {
  readonly path: string;
  readonly debianPackage: string;
}

export const sshd: Program = { path: '/usr/sbin/sshd', debianPackage: 'openssh-server' };
export const sshKeygen: Program = { path: '/usr/bin/ssh-keygen', debianPackage: 'openssh-client' };
export const openssl: Program = { path: '/usr/bin/openssl', debianPackage: 'openssl' };
export const useradd: Program = { path: '/usr/sbin/useradd', debianPackage: 'passwd' };
export const usermod: Program = { path: '/usr/sbin/usermod', debianPackage: 'passwd' };
export const setpriv: Program = { path: '/usr/bin/setpriv', debianPackage: 'util-linux' };

/** Throws, naming the package to install, when `program` is not on this machine. */
export function requireProgram(program: Program): void {
  if (!existsSync(program.path)) {
    throw new Error(
      `${program.path} is missing: install it with \`apt-get install -y --no-install-recommends ${program.debianPackage}\` (.ci/run does this on CI)`,
    );
  }
}

const execFileAsync = promisify(execFile);

/** Runs `program` to completion and returns what it printed on stdout; rejects with its stderr when it fails. */
export async function runProgram(program: Program, args: readonly string[]): Promise<string> {
  requireProgram(program);
  try {
    return (await execFileAsync(program.path, args)).stdout;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new Error(`${program.path} ${args.join(' ')} failed${stderr ? `: ${stderr}` : ''}`, { cause: error });
  }
}
