import { FTPError } from 'basic-ftp';
import { classifyGeneric, DeliveryError, PermanentError, TransientError } from '../../../shared/destination/index.ts';
import { CertificateMismatchError } from './certificate.ts';
import { PassiveModeRefusedError } from './passive.ts';
import { FtpReplyError } from './reply-error.ts';

/** Replies that retrying will not change, with what to change. */
const permanentReplies: Readonly<Record<number, { readonly code: string; readonly advice: string }>> = {
  530: { code: 'LoginFailed', advice: 'the server refused the login: check user and password (or the stored credentials)' },
  532: { code: 'AccountRequired', advice: 'the server wants an account (ACCT) to store files, which this destination does not send' },
  550: {
    code: 'FileUnavailable',
    advice: 'the server refused: check that the user may write there and that the folder exists or may be created',
  },
  552: { code: 'StorageExceeded', advice: "the user's storage allocation on the server is exceeded" },
  553: { code: 'FileNameNotAllowed', advice: 'the server does not allow this file name' },
};

/** Replies that say "not now": the next attempt may well succeed. */
const transientReplies: Readonly<Record<number, string>> = {
  421: 'ServiceNotAvailable',
  425: 'DataConnectionFailed',
  426: 'TransferAborted',
  450: 'FileBusy',
  451: 'ServerLocalError',
  452: 'InsufficientStorage',
};

/**
 * What servers say when they are full or the file is held, not refused: ProFTPD answers its
 * MaxClients limits with 530 ("Sorry, the maximum number of clients (3) for this user are already
 * connected."), IIS a sharing violation with 550 ("… being used by another process"). Other
 * servers (vsftpd, Pure-FTPd, FileZilla Server) answer their limits with 421, transient already.
 */
const busyReply = /too many (?:connections|users|clients|sessions)|maximum number of (?:allowed )?(?:clients|connections|hosts|users)|are already (?:connected|logged in)|try (?:again )?later|being used by another process/i;

/** basic-ftp's own failures, which carry no socket error code. */
const timedOut = /\btimeout\b|timed out/i;
const connectionLost = /closed connection unexpectedly|sent FIN packet unexpectedly|closed due to transmission error|closed client/i;

/** Advice in FTP's terms for the failures every destination's classifier recognises. */
const tlsAdvice: Readonly<Record<string, string>> = {
  NotTls:
    'the server does not speak TLS there: secure "implicit" needs the FTPS port (990) that starts with TLS; for AUTH TLS on the plain port use "explicit"',
  UntrustedCertificate:
    "the server's TLS certificate is not trusted: fix it, give host as the name it is issued for, or pin it with certificate_fingerprint",
};

/** `reply` is the server's line alone; `message` names the step too. */
function classifyReply(replyCode: number, reply: string, message: string, step: string | undefined, cause: unknown): DeliveryError {
  if ((replyCode === 530 || replyCode === 550) && busyReply.test(reply)) {
    return new TransientError(`${message} — the server is busy; the next attempt tries again`, { code: 'ServerBusy', cause });
  }
  if (step?.startsWith('start TLS') && replyCode >= 500) {
    return new PermanentError(`${message} — the server does not offer explicit FTPS: set secure to false, or to "implicit" with its FTPS port`, {
      code: 'TlsNotOffered',
      cause,
    });
  }
  const permanent = permanentReplies[replyCode];
  if (permanent) return new PermanentError(`${message} — ${permanent.advice}`, { code: permanent.code, cause });
  const transient = transientReplies[replyCode];
  if (transient) return new TransientError(message, { code: transient, cause });
  return replyCode < 500 ? new TransientError(message, { code: `FTP${replyCode}`, cause }) : new PermanentError(message, { code: `FTP${replyCode}`, cause });
}

/**
 * Decides whether an FTP failure is worth another attempt, keeping the original as the cause:
 * 530, 550, 552, 553 (and other 5xx) are permanent with the server's message and what to change,
 * unless a 530 or 550 says the server is full or the file busy; 421, 425, 426, 450, 451 (and other
 * 4xx), timeouts and dropped connections are transient; a certificate that is not the pinned one,
 * or a server that offers no passive mode, is permanent.
 */
export function classifyFtpError(error: unknown): DeliveryError {
  if (error instanceof DeliveryError) return error;
  if (error instanceof FtpReplyError) return classifyReply(error.replyCode, error.reply, error.message, error.step, error);
  if (error instanceof FTPError) return classifyReply(error.code, error.message.trim(), error.message.trim(), undefined, error);
  if (error instanceof CertificateMismatchError) {
    return new PermanentError(`${error.message} — check certificate_fingerprint (was the certificate renewed?)`, { code: 'CertificateMismatch', cause: error });
  }
  if (error instanceof PassiveModeRefusedError) {
    return new PermanentError(`${error.message} — active mode is impossible from AWS Lambda, which accepts no inbound connections`, {
      code: 'PassiveModeRefused',
      cause: error,
    });
  }
  const generic = classifyGeneric(error);
  const advice = tlsAdvice[generic.code];
  if (advice) return new PermanentError(advice, { code: generic.code, cause: error });
  if (generic.code !== 'Unexpected' || !(error instanceof Error)) return generic;
  if (timedOut.test(error.message)) return new TransientError(`timed out: ${error.message}`, { code: 'Timeout', cause: error });
  if (connectionLost.test(error.message)) return new TransientError(`connection lost: ${error.message}`, { code: 'ConnectionLost', cause: error });
  return generic;
}
