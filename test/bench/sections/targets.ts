import { DeleteObjectCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { benchCredentials, ceilingClients, type ClientName } from '../clients/commands.ts';
import type { DiscardServer } from '../servers/discard.ts';
import type { S3Sink } from '../servers/s3-sink.ts';
import type { S3rverServer } from '../servers/s3rver.ts';
import type { StoredUpload, UploadTarget } from './throughput.ts';

export const benchBucket = 'bench';

/**
 * The S3 sink, with the discard server beside it for the plain PUT ceiling. In verification runs
 * the sink checks every digest a client sent and the whole object's CRC-32 against the source's.
 */
export function sinkTarget(
  name: string,
  description: string,
  sink: S3Sink,
  discard: DiscardServer,
  clients: readonly ClientName[],
  caFile: string | undefined,
): UploadTarget {
  let verifying = false;
  return {
    name,
    description,
    clients,
    bucket: benchBucket,
    caFile,
    endpoint: (client) => (ceilingClients.has(client) ? discard.endpoint : sink.endpoint),
    clock: (client) => (ceilingClients.has(client) ? discard.clock : sink.clock),
    setVerify(on) {
      verifying = on;
      sink.verify = on;
      discard.verify = on;
    },
    async check(client, key, size, expectedCrc): Promise<StoredUpload> {
      if (ceilingClients.has(client)) {
        const body = discard.received(`/${benchBucket}/${key}`);
        if (!body || body.bytes !== size) throw new Error(`${client} delivered ${body?.bytes ?? 'no'} bytes, expected ${size}`);
        if (verifying && body.crc32 !== expectedCrc) throw new Error(`${client}: the bytes that arrived are not the source`);
        return { bytes: body.bytes, contentChecked: verifying };
      }
      const object = sink.object(benchBucket, key);
      if (!object) throw new Error(`${client}: no object ${key} in the sink after the upload`);
      if (object.size !== size) throw new Error(`${client}: the sink holds ${object.size} bytes, expected ${size}`);
      if (verifying && object.crc32 !== expectedCrc) throw new Error(`${client}: the object's CRC-32 is not the source's`);
      return { bytes: object.size, contentChecked: verifying, parts: object.parts, partSize: object.partSize, integrity: object.integrity };
    },
    async forget(client, key) {
      if (!ceilingClients.has(client)) sink.forget(benchBucket, key);
    },
  };
}

/**
 * s3rver stores the object on disk; after every upload it is read back in full and its size and
 * CRC-32 compared with the source's, then deleted so a long run does not fill the disk. s3rver
 * keeps a streamed PutObject's aws-chunked framing as the object, which the uploader finds on its
 * first delivery to such a store and sends held parts from then on: ours sends them here from the start.
 */
export function s3rverTarget(server: S3rverServer, clients: readonly ClientName[]): UploadTarget {
  const reader = new S3Client({
    endpoint: server.endpoint,
    region: benchCredentials.region,
    forcePathStyle: true,
    credentials: { accessKeyId: benchCredentials.accessKeyId, secretAccessKey: benchCredentials.secretAccessKey },
  });
  return {
    name: 's3rver',
    description: 's3rver 3.7.1 on loopback (stores on disk); every object read back and its CRC-32 checked; ours in held parts (s3rver keeps aws-chunked framing)',
    oursTuning: { streamedPutMaxMiB: 0, streamedParts: 0 },
    clients: clients.filter((client) => !ceilingClients.has(client)),
    bucket: benchBucket,
    caFile: undefined,
    endpoint: () => server.endpoint,
    clock: () => server.clock,
    setVerify: () => undefined,
    async check(client, key, size, expectedCrc) {
      const answer = await reader.send(new GetObjectCommand({ Bucket: benchBucket, Key: key }));
      let bytes = 0;
      let value = 0;
      for await (const chunk of answer.Body as Readable) {
        bytes += (chunk as Buffer).length;
        value = crc32(chunk as Buffer, value);
      }
      if (bytes !== size) throw new Error(`${client}: s3rver returned ${bytes} bytes, expected ${size}`);
      if (value >>> 0 !== expectedCrc) throw new Error(`${client}: the object read back from s3rver is not the source (CRC-32 differs)`);
      return { bytes, contentChecked: true };
    },
    async forget(_client, key) {
      await reader.send(new DeleteObjectCommand({ Bucket: benchBucket, Key: key })).catch(() => undefined);
    },
  };
}
