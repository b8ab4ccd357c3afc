import { chmod, chown, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { findFreePort, waitUntilAccepting } from './loopback.ts';
import { openssl, requireProgram, runProgram, sshd, sshKeygen, useradd, usermod } from './programs.ts';
import { startServerProcess } from './server-process.ts';
import { createTemporaryFolder } from './temporary-folder.ts';

/** OpenSSH's sshd on 127.0.0.1, serving SFTP only, to one user. */
export interface TestSftpServer {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** An unencrypted ed25519 private key (OpenSSH format) the server accepts for `user`. */
  readonly privateKey: string;
  /** Another accepted ed25519 key, encrypted with `passphrase`. */
  readonly encryptedPrivateKey: string;
  readonly passphrase: string;
  /** The host key's fingerprint as `ssh-keygen -l` prints it: `SHA256:` and unpadded base64. */
  readonly hostKeyFingerprint: string;
  /** The user's folder on disk, where SFTP sessions start: relative paths land here. */
  readonly root: string;
  /** The sshd listener's process ID. */
  readonly pid: number;
  close(): Promise<void>;
}

const user = 'udsftp';
// The Unix user is one for the machine, shared by servers in parallel test workers, so its
// password is fixed rather than drawn per server. It can do nothing but SFTP through these servers:
// its shell is nologin and it has no home.
const password = 'udsftp-local-test-password';
const passphrase = 'udsftp local test passphrase';

/**
 * Starts sshd with its own host key and configuration in a temporary folder, on a free port, in the
 * foreground as a child process, creating the Unix user `udsftp` first if the machine lacks it.
 * Needs root (sshd switches to the user after login) and the Debian package openssh-server.
 *
 * @example
 * const server = await startSftpServer();
 * client.connect({
 *   host: server.host, port: server.port, username: server.user, privateKey: server.privateKey,
 *   hostVerifier: (key: Buffer) => fingerprintOf(key) === server.hostKeyFingerprint,
 * });
 */
export async function startSftpServer(): Promise<TestSftpServer> {
  if (process.getuid?.() !== 0) throw new Error(`startSftpServer needs root: sshd switches to the Unix user ${user} after login (CI runs as root)`);
  requireProgram(sshd);
  const folder = await createTemporaryFolder('sftp');
  try {
    // The user's side of sshd reads authorized_keys and serves files: it must reach into the folder.
    await chmod(folder.path, 0o755);
    const root = join(folder.path, 'files');
    const key = (name: string): string => join(folder.path, name);
    const [account, port] = await Promise.all([
      ensureUnixUser(),
      findFreePort(),
      mkdir(root),
      // sshd's privilege-separation folder, made by the package's service script, which never ran here.
      mkdir('/run/sshd', { recursive: true }),
      generateKey(key('host-key'), ''),
      generateKey(key('client-key'), ''),
      generateKey(key('encrypted-client-key'), passphrase),
    ]);
    await chown(root, account.uid, account.gid);

    const [privateKey, encryptedPrivateKey, authorizedKey, encryptedAuthorizedKey, fingerprintLine] = await Promise.all([
      readFile(key('client-key'), 'utf8'),
      readFile(key('encrypted-client-key'), 'utf8'),
      readFile(key('client-key.pub'), 'utf8'),
      readFile(key('encrypted-client-key.pub'), 'utf8'),
      runProgram(sshKeygen, ['-l', '-E', 'sha256', '-f', key('host-key.pub')]),
    ]);
    await writeFile(key('authorized_keys'), authorizedKey + encryptedAuthorizedKey);
    const configuration = key('sshd_config');
    await writeFile(
      configuration,
      [
        'ListenAddress 127.0.0.1',
        `Port ${port}`,
        `HostKey ${key('host-key')}`,
        `PidFile ${key('sshd.pid')}`,
        `AuthorizedKeysFile ${key('authorized_keys')}`,
        'UsePAM no',
        'StrictModes no',
        'PasswordAuthentication yes',
        'PubkeyAuthentication yes',
        'KbdInteractiveAuthentication no',
        'PermitRootLogin no',
        `AllowUsers ${user}`,
        'AllowTcpForwarding no',
        'X11Forwarding no',
        'Subsystem sftp internal-sftp',
        // SFTP only, in-process (so the nologin shell is never run), starting in the user's folder.
        `ForceCommand internal-sftp -d ${root}`,
        '',
      ].join('\n'),
    );

    const server = startServerProcess('sshd', sshd.path, ['-D', '-e', '-f', configuration]);
    try {
      await server.whileRunning(waitUntilAccepting(port));
    } catch (error) {
      await server.stop();
      throw error;
    }
    return {
      host: '127.0.0.1',
      port,
      user,
      password,
      privateKey,
      encryptedPrivateKey,
      passphrase,
      // "256 SHA256:… no comment (ED25519)"
      hostKeyFingerprint: fingerprintLine.split(' ')[1]!,
      root,
      pid: server.pid,
      close: async () => {
        await server.stop();
        await folder.remove();
      },
    };
  } catch (error) {
    await folder.remove();
    throw error;
  }
}

/** Writes an ed25519 key pair to `path` and `path.pub`, encrypted when `keyPassphrase` is not empty. */
async function generateKey(path: string, keyPassphrase: string): Promise<void> {
  // 4 KDF rounds instead of ssh-keygen's 16: the key guards test data only, and the client (ssh2,
  // in JavaScript) pays for every round each time it decrypts the key.
  await runProgram(sshKeygen, ['-q', '-t', 'ed25519', '-a', '4', '-C', '', '-N', keyPassphrase, '-f', path]);
}

interface UnixAccount {
  readonly uid: number;
  readonly gid: number;
  readonly passwordHash: string | undefined;
}

/**
 * Makes sure the Unix user exists with `password`, adding it or resetting its password if not;
 * parallel test workers may do this at the same moment, so a failure is retried after a fresh look.
 */
async function ensureUnixUser(): Promise<UnixAccount> {
  // A fixed salt keeps the hash the same from run to run, so an up-to-date user is left untouched.
  const passwordHash = (await runProgram(openssl, ['passwd', '-6', '-salt', user, password])).trim();
  let failure: unknown;
  for (let attempt = 1; attempt <= 5; attempt++) {
    const account = await readUnixAccount();
    if (account?.passwordHash === passwordHash) return account;
    try {
      if (account) await runProgram(usermod, ['--password', passwordHash, user]);
      else await runProgram(useradd, ['--system', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', '--password', passwordHash, user]);
    } catch (error) {
      // Another worker holds the lock on /etc/passwd, or added the user first: look again.
      failure = error;
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
  throw new Error(`could not set up the Unix user ${user} with the test password`, { cause: failure });
}

async function readUnixAccount(): Promise<UnixAccount | undefined> {
  const fieldsOf = (table: string): string[] | undefined =>
    table
      .split('\n')
      .find((line) => line.startsWith(`${user}:`))
      ?.split(':');
  const [passwd, shadow] = await Promise.all([readFile('/etc/passwd', 'utf8'), readFile('/etc/shadow', 'utf8')]);
  const entry = fieldsOf(passwd);
  if (!entry) return undefined;
  return { uid: Number(entry[2]), gid: Number(entry[3]), passwordHash: fieldsOf(shadow)?.[1] };
}
