import {
  DeliveryError,
  PermanentError,
  type DeliverySource,
  type OutboundNetwork,
  type ProbeCheck,
  type Uploader,
} from '../../../shared/destination/index.ts';
import { classifyFacebookError } from './errors.ts';
import { GraphClient } from './graph-client.ts';
import { publishHandle } from './publish.ts';
import type { FacebookResumeState } from './resume-state.ts';
import { uploadThroughSession } from './resumable-upload.ts';
import type { FacebookDestinationFields } from './schema.ts';
import { resolveTarget } from './target.ts';
import { cancelSession, uploadThroughPage } from './upload-phase.ts';
import { videoParameters } from './video-fields.ts';

function graphFor(destination: FacebookDestinationFields, network: OutboundNetwork, signal: AbortSignal): GraphClient {
  return new GraphClient({ endpoint: destination.endpoint, version: destination.api_version, network, signal });
}

/** Both of Facebook's upload flows announce the size first, and neither takes an empty file. */
function fileSizeOf(source: DeliverySource): number {
  if (source.size === undefined) {
    throw new PermanentError(
      "the source did not say its size (no Content-Length), and Facebook needs a video's size before its upload starts: serve it with a Content-Length, or stage it in the bucket",
      { code: 'SizeUnknown' },
    );
  }
  if (source.size === 0) throw new PermanentError('the source is empty, and Facebook takes no empty video', { code: 'EmptyFile' });
  return source.size;
}

/** The video's public address: `https://www.facebook.com/<page>/videos/<id>`. */
function videoUrl(pageId: string, videoId: string): string {
  return `https://www.facebook.com/${pageId}/videos/${videoId}`;
}

/**
 * Publishes videos on Facebook Pages through the Graph API. A Page access token uploads through
 * the Page's chunked `upload_phase` flow; a user or system-user token through the Resumable
 * Upload API, publishing the handle with the Page's token. Either way a broken upload is continued
 * by the next attempt from where Facebook stands, and a video is never published twice.
 */
export const facebookUploader: Uploader<FacebookDestinationFields, FacebookResumeState> = {
  async upload({ destination, source, signal, network, resume }) {
    const fileSize = fileSizeOf(source);
    const graph = graphFor(destination, network, signal);
    const target = await resolveTarget(graph, destination);
    const parameters = videoParameters(destination);
    if (target.flow === 'upload-phase') {
      const { videoId, resumedAt } = await uploadThroughPage({ graph, pageId: target.pageId, pageToken: target.pageToken }, source, fileSize, parameters, resume);
      return {
        url: videoUrl(target.pageId, videoId),
        details: { video_id: videoId, page_id: target.pageId, upload: 'page upload_phase', ...(resumedAt > 0 ? { resumed_at: resumedAt } : {}) },
      };
    }
    const { state, resumedAt } = await uploadThroughSession({ graph, uploaderToken: target.uploaderToken, pageId: target.pageId, source, fileLength: fileSize }, resume);
    const videoId = await publishHandle({ graph, pageId: target.pageId, pageToken: target.pageToken, parameters }, state, resume, signal);
    return {
      url: videoUrl(target.pageId, videoId),
      details: { video_id: videoId, page_id: target.pageId, upload: 'resumable upload API', ...(resumedAt > 0 ? { resumed_at: resumedAt } : {}) },
    };
  },

  classify: classifyFacebookError,

  /**
   * Cancels an `upload_phase` session, dropping its bytes. A Resumable Upload API session cannot
   * be deleted (its edge has no DELETE): nobody sees it, and Facebook expires it; nothing is left
   * under a video either way.
   */
  async discard({ destination, state, signal, network }) {
    if (state.flow !== 'upload-phase') return;
    const graph = graphFor(destination, network, signal);
    const target = await resolveTarget(graph, destination);
    await cancelSession({ graph, pageId: state.pageId, pageToken: target.pageToken }, state);
  },

  /** Asks Graph who the token is and whether it can publish on the Page, without uploading. */
  async probe({ destination, signal, network }): Promise<ProbeCheck[]> {
    try {
      const target = await resolveTarget(graphFor(destination, network, signal), destination);
      const how = target.flow === 'upload-phase' ? 'a Page access token' : 'a user or system-user token, with a Page token obtained for it';
      return [{ name: 'identity', ok: true, detail: `publishes on Page ${target.pageId} with ${how}` }];
    } catch (error) {
      const classified = error instanceof DeliveryError ? error : classifyFacebookError(error);
      return [{ name: 'identity', ok: false, detail: classified.message }];
    }
  },
};
