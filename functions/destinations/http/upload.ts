import { guardedHttpAgent, guardedHttpsAgent, type OutboundNetwork, type ProbeCheck, type Uploader } from '../../../shared/destination/index.ts';
import { deliveredUrl } from './answer.ts';
import { classifyHttpError, HttpAnswerError } from './errors.ts';
import { firstHeader, isSuccess, type Agents, type Answer, type ExchangeOptions } from './exchange.ts';
import { probeChecks } from './probe.ts';
import { displayUrl, secretValuesOf, serverText } from './redaction.ts';
import { sendFollowingRedirects, type FinalAnswer } from './redirects.ts';
import { fileUpload, optionsRequest, uploadTarget, type PlannedRequest } from './request.ts';
import type { HttpDestinationFields } from './schema.ts';

/** As curl waits for `100 Continue` before it sends the body anyway. */
const continueWaitMs = 1000;
/** Silence after which a request fails as timed out (a server may think a while after the last byte). */
const idleTimeoutMs = 120_000;
/** Enough of an answer to find a `url` in its JSON; {@link serverText} keeps less. */
const headBytes = 65_536;

/**
 * Sends `request` through agents made for this one upload from the function's network policy (so
 * every hop, redirects included, connects only where the policy allows), and closes them after.
 */
async function send(network: OutboundNetwork, start: URL, request: PlannedRequest, signal: AbortSignal): Promise<FinalAnswer> {
  const agents: Agents = { http: guardedHttpAgent(network), https: guardedHttpsAgent(network) };
  const options: ExchangeOptions = { agents, signal, continueWaitMs, idleTimeoutMs, headBytes };
  try {
    return await sendFollowingRedirects(start, request, options);
  } finally {
    agents.http.destroy();
    agents.https.destroy();
  }
}

function answerError(answer: Answer, request: string, url: URL, text: string, idempotencyKey: boolean): HttpAnswerError {
  const location = firstHeader(answer.headers, 'location');
  const target = location === undefined ? undefined : URL.parse(location, url.href);
  const retryAfter = firstHeader(answer.headers, 'retry-after');
  return new HttpAnswerError(
    answer.status,
    request,
    text,
    {
      ...(location === undefined ? {} : { location: target ? displayUrl(target) : location }),
      ...(retryAfter === undefined ? {} : { retryAfter }),
    },
    answer.bodyStarted,
    idempotencyKey,
  );
}

/**
 * Delivers to any HTTP endpoint: a POST of a multipart form (the fields, then the file) or a PUT
 * of the raw bytes, streamed, with a Content-Length when the source tells its size and chunked
 * otherwise. Any 2xx is a delivery. Nothing is resumable here (HTTP has no protocol for it): a
 * failed attempt starts again from the first byte, with the same `Idempotency-Key`.
 */
export const httpUploader: Uploader<HttpDestinationFields> = {
  async upload({ destination, source, signal, network, deliveryKey }) {
    const request = fileUpload(destination, source, deliveryKey);
    const { answer, url, redirects } = await send(network, uploadTarget(destination), request, signal);
    const secrets = secretValuesOf(destination, url);
    const text = serverText(answer.head, secrets);
    if (!isSuccess(answer.status) || !answer.bodyStarted) {
      throw answerError(answer, `${request.method} ${displayUrl(url)}`, url, text, request.headers(true)['idempotency-key'] !== undefined);
    }
    return {
      url: deliveredUrl(answer, url, secrets),
      details: {
        status: answer.status,
        method: request.method,
        body: request.body?.length === undefined ? 'chunked' : 'content-length',
        ...(text === '' ? {} : { response: text }),
        ...(redirects === 0 ? {} : { redirects, redirected_to: displayUrl(url) }),
      },
    };
  },
  classify: classifyHttpError,
  /**
   * An OPTIONS request with the upload's credentials, following redirects as an upload would: it
   * checks reachability, credentials and the method without sending (or writing) anything.
   */
  async probe({ destination, signal, network }): Promise<ProbeCheck[]> {
    try {
      const { answer, url } = await send(network, uploadTarget(destination), optionsRequest(destination), signal);
      return probeChecks(answer, destination.method, displayUrl(url));
    } catch (error) {
      return [{ name: 'reach', ok: false, detail: classifyHttpError(error).message }];
    }
  },
};
