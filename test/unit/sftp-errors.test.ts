import { describe, expect, it } from 'vitest';
import { ConnectionLostError, HostKeyMismatchError, PrivateKeyError, RemoteFileError, classifySftpError, sftpStatus } from '../../functions/destinations/sftp/errors.ts';
import { PermanentError, TransientError } from '../../shared/errors.ts';

/** An error as ssh2 reports a failed connection: a message and the stage it failed at. */
function ssh2Error(message: string, level: string): Error {
  return Object.assign(new Error(message), { level });
}

describe('classifySftpError', () => {
  it.each([
    ['a host key mismatch', new HostKeyMismatchError('SHA256:seen', 'SHA256:pinned'), 'HostKeyMismatch'],
    ['an unreadable private key', new PrivateKeyError('Malformed OpenSSH private key', false), 'InvalidPrivateKey'],
    ['a refused login', ssh2Error('All configured authentication methods failed', 'client-authentication'), 'AuthenticationFailed'],
    ['no algorithm in common', ssh2Error('Handshake failed: no matching C->S cipher', 'handshake'), 'HandshakeFailed'],
    ['a permission refused', new RemoteFileError('open', '/srv/a', sftpStatus.permissionDenied, new Error('Permission denied')), 'PermissionDenied'],
    ['a missing path', new RemoteFileError('mkdir', '/srv/a', sftpStatus.noSuchFile, new Error('No such file')), 'NoSuchPath'],
    ['an unsupported request', new RemoteFileError('rename', '/srv/a', sftpStatus.operationUnsupported, new Error('Operation unsupported')), 'OperationUnsupported'],
  ])('fails permanently for %s, keeping the cause', (_case, error, code) => {
    const classified = classifySftpError(error);

    expect(classified).toBeInstanceOf(PermanentError);
    expect(classified.code).toBe(code);
    expect(classified.cause).toBe(error);
  });

  it.each([
    ['a handshake timeout', ssh2Error('Timed out while waiting for handshake', 'client-timeout'), 'Timeout'],
    ['a lost connection', new ConnectionLostError(), 'ConnectionLost'],
    ['a reset socket under a lost connection', new ConnectionLostError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })), 'ConnectionLost'],
    ['a server failure (a full disk answers so)', new RemoteFileError('write', '/srv/a', sftpStatus.failure, new Error('Failure')), 'Failure'],
    ['a protocol error', ssh2Error('Bad packet length', 'protocol'), 'ProtocolError'],
  ])('fails transiently for %s', (_case, error, code) => {
    const classified = classifySftpError(error);

    expect(classified).toBeInstanceOf(TransientError);
    expect(classified.code).toBe(code);
  });

  it('tells what to pin when the host key changed', () => {
    expect(classifySftpError(new HostKeyMismatchError('SHA256:seen', 'SHA256:pinned')).message).toContain('set host_key to SHA256:seen');
  });

  it('points at the passphrase when an encrypted key does not open', () => {
    expect(classifySftpError(new PrivateKeyError('OpenSSH key integrity check failed -- bad passphrase?', true)).message).toContain('check passphrase');
  });
});
