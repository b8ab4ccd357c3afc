import { classifyGeneric, PermanentError, TransientError, type DeliveryError } from '../../../shared/destination/index.ts';

/** SFTP status codes (draft-ietf-secsh-filexfer-02, the version OpenSSH speaks). */
export const sftpStatus = {
  eof: 1,
  noSuchFile: 2,
  permissionDenied: 3,
  failure: 4,
  badMessage: 5,
  noConnection: 6,
  connectionLost: 7,
  operationUnsupported: 8,
} as const;

/** The server showed another host key than `host_key` pins. */
export class HostKeyMismatchError extends Error {
  public constructor(
    public readonly seen: string,
    public readonly expected: string,
  ) {
    super(`the server's host key is ${seen}, not ${expected}`);
    this.name = 'HostKeyMismatchError';
  }
}

/** `private_key` (with `passphrase`) could not be read. The message never holds the key. */
export class PrivateKeyError extends Error {
  public constructor(
    message: string,
    public readonly encrypted: boolean,
  ) {
    super(message);
    this.name = 'PrivateKeyError';
  }
}

/** An SFTP request that the server answered with a failure status, with what was asked and where. */
export class RemoteFileError extends Error {
  public constructor(
    public readonly operation: string,
    public readonly path: string,
    public readonly status: number | undefined,
    cause: unknown,
  ) {
    super(`${operation} '${path}': ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'RemoteFileError';
  }
}

/** The SSH connection ended while requests were outstanding. */
export class ConnectionLostError extends Error {
  public constructor(cause?: unknown) {
    super(`the SSH connection was lost${cause instanceof Error ? `: ${cause.message}` : ''}`, { cause });
    this.name = 'ConnectionLostError';
  }
}

/** The status code an ssh2 SFTP failure carries (ssh2 puts it in `code`). */
export function statusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** ssh2 marks where a connection failed in `level`. */
function levelOf(error: unknown): string | undefined {
  const level = (error as { level?: unknown } | undefined)?.level;
  return typeof level === 'string' ? level : undefined;
}

function classifyRemoteFile(error: RemoteFileError): DeliveryError {
  const what = `SFTP ${error.message}`;
  switch (error.status) {
    case sftpStatus.permissionDenied:
      return new PermanentError(`${what}: give user write access there, or choose a filename in a folder it may write to`, {
        code: 'PermissionDenied',
        cause: error,
      });
    case sftpStatus.noSuchFile:
      return new PermanentError(`${what}: the folder is not there and cannot be created; check filename (relative paths start in the login folder)`, {
        code: 'NoSuchPath',
        cause: error,
      });
    case sftpStatus.operationUnsupported:
      return new PermanentError(`${what}: the server does not support this request`, { code: 'OperationUnsupported', cause: error });
    case sftpStatus.badMessage:
      return new PermanentError(`${what}: the server took the request for malformed`, { code: 'BadMessage', cause: error });
    case sftpStatus.noConnection:
    case sftpStatus.connectionLost:
      return new TransientError(what, { code: 'ConnectionLost', cause: error });
    default:
      // SSH_FX_FAILURE is what OpenSSH answers for a full disk or quota as much as for odd errors:
      // worth another attempt, which ends in the dead-letter queue if it never clears.
      return new TransientError(what, { code: 'Failure', cause: error });
  }
}

/**
 * Decides whether an SFTP delivery's failure is worth another attempt; keeps the original as the
 * cause. Configuration problems (the host key, the login, permissions, a path that cannot be made)
 * are permanent and say what to change; dropped connections and timeouts are transient.
 */
export function classifySftpError(error: unknown): DeliveryError {
  if (error instanceof HostKeyMismatchError) {
    return new PermanentError(
      `SSH host key mismatch: ${error.message} (host_key). If the server's key was changed on purpose, set host_key to ${error.seen}; otherwise the connection may be intercepted`,
      { code: 'HostKeyMismatch', cause: error },
    );
  }
  if (error instanceof PrivateKeyError) {
    const advice = error.encrypted ? 'check passphrase' : 'give the whole key, with its BEGIN and END lines';
    return new PermanentError(`private_key cannot be used: ${error.message} (${advice})`, { code: 'InvalidPrivateKey', cause: error });
  }
  if (error instanceof RemoteFileError) return classifyRemoteFile(error);
  if (error instanceof ConnectionLostError) return new TransientError(error.message, { code: 'ConnectionLost', cause: error });
  switch (levelOf(error)) {
    case 'client-authentication':
      return new PermanentError(
        'SSH login refused: check user and password, or private_key (its public key must be in the user’s authorized_keys)',
        { code: 'AuthenticationFailed', cause: error },
      );
    case 'client-timeout':
      return new TransientError('SSH handshake timed out', { code: 'Timeout', cause: error });
    case 'handshake':
      return new PermanentError(`SSH handshake failed: ${(error as Error).message} (the server offers no algorithm this client supports)`, {
        code: 'HandshakeFailed',
        cause: error,
      });
    case 'protocol':
      return new TransientError(`SSH protocol error: ${(error as Error).message}`, { code: 'ProtocolError', cause: error });
  }
  return classifyGeneric(error);
}
