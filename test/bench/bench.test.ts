import { S3Client, PutObjectCommand, CreateMultipartUploadCommand, UploadPartCommand, CompleteMultipartUploadCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crc32 } from 'node:zlib';
import { patternCrc32, patternRanges, patternStream } from './input/pattern.ts';
import { combineBodies, startDiscardServer } from './servers/discard.ts';
import { spreadLabel, spreadOf } from './measure/stats.ts';
import { verifiedRunIsTimed } from './measure/rounds.ts';
import { timedRoundsAt } from './sections/throughput.ts';
import { ChildFailed, runMeasured } from './measure/child.ts';
import { join } from 'node:path';
import { createTemporaryFolder, type TemporaryFolder } from '../support/servers/temporary-folder.ts';
import { costPerGiB, modelledMibPerSecond, pricePerGbSecond, recommendedMemoryMb, vcpuShare } from './sections/lambda-memory.ts';
import { bestPeerGoals, memoryTargetGoals } from './report/s3-targets.ts';
import { startPatternServer } from './servers/pattern-server.ts';
import { bestOf } from './report/destinations.ts';
import { AwsChunkedDecoder } from '../../infra/local/aws-chunked-decoder.ts';
import { crc32Combine } from '../../shared/delivery/checksum.ts';
import { startS3Sink, type S3Sink } from './servers/s3-sink.ts';
import { defaultMultipartSettings, streamToS3 } from '../../functions/destinations/s3/multipart.ts';
import { s3ApiFor } from '../../functions/destinations/s3/client.ts';
import { s3DestinationSchema } from '../../functions/destinations/s3/schema.ts';
import { SourceReader } from '../../shared/sources/delivery-source.ts';

// The bench's own parts, checked for correctness only: no timing is asserted anywhere.

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

async function collect(size: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of patternStream(size)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('pattern input', () => {
  it('streams exactly the requested bytes, the same every time, with the CRC-32 it announces', async () => {
    const size = 3 * MiB + 12_345;
    const first = await collect(size);
    expect(first.length).toBe(size);
    expect(first.equals(await collect(size))).toBe(true);
    expect(crc32(first) >>> 0).toBe(patternCrc32(size));
  });
});

describe('crc32Combine', () => {
  it('gives the CRC-32 of the concatenation', () => {
    const a = Buffer.from('the first part of an object, ');
    const b = Buffer.from('and the second one');
    expect(crc32Combine(crc32(a), crc32(b), b.length)).toBe(crc32(Buffer.concat([a, b])) >>> 0);
    expect(crc32Combine(crc32(a), 0, 0)).toBe(crc32(a) >>> 0);
  });
});

describe('AwsChunkedDecoder', () => {
  const framed = Buffer.from(
    '5;chunk-signature=aa\r\nhello\r\n6;chunk-signature=bb\r\n world\r\n0;chunk-signature=cc\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n',
  );
  it('decodes signed chunks and trailers however the body is split', () => {
    for (const step of [1, 3, 7, framed.length]) {
      const decoder = new AwsChunkedDecoder();
      const data: Buffer[] = [];
      for (let offset = 0; offset < framed.length; offset += step) {
        decoder.write(framed.subarray(offset, offset + step), (part) => data.push(Buffer.from(part)));
      }
      expect(Buffer.concat(data).toString()).toBe('hello world');
      expect(decoder.complete).toBe(true);
      expect(decoder.trailers.get('x-amz-checksum-crc32')).toBe('DUoRhQ==');
    }
  });
  it('refuses broken framing', () => {
    expect(() => new AwsChunkedDecoder().write(Buffer.from('zz\r\n'))).toThrow(/chunk size/);
    expect(() => new AwsChunkedDecoder().write(Buffer.from('2\r\nabXY'))).toThrow(/CRLF/);
  });
});

describe('S3 sink', () => {
  let sink: S3Sink;
  let client: S3Client;
  beforeAll(async () => {
    sink = await startS3Sink();
    client = new S3Client({
      endpoint: sink.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'secret' },
    });
  });
  afterAll(async () => {
    client.destroy();
    await sink.close();
  });

  it('accepts a lib-storage multipart upload and, verifying, holds the source CRC-32', async () => {
    sink.verify = true;
    const size = 12 * MiB + 7;
    await new Upload({ client, params: { Bucket: 'bench', Key: 'a/b.bin', Body: patternStream(size) } }).done();
    const object = sink.object('bench', 'a/b.bin');
    expect(object).toMatchObject({ size, parts: 3, partSize: 5 * MiB, crc32: patternCrc32(size) });
    expect(object?.integrity).toContain('crc32(header)');
    expect(sink.clock.window('/bench/a/b.bin')?.requests).toBe(5);
  });

  it('takes our streamed PutObject (CRC-32 in an aws-chunked trailer), checking the trailer when verifying', async () => {
    // Prepare
    sink.verify = true;
    // Over one part (a file of one part is a PutObject of its bytes), under the switch.
    const size = 12 * MiB + 5;
    const destination = s3DestinationSchema.parse({
      type: 's3',
      bucket: 'bench',
      filename: 'streamed.bin',
      endpoint: sink.endpoint,
      aws_access_key_id: 'AKIAIOSFODNN7EXAMPLE',
      aws_secret_access_key: 'secret',
      acl: 'bucket-default',
    });
    const network = { allowPrivateNetworks: true };
    const clients = { transfer: s3ApiFor(destination, network), commit: s3ApiFor(destination, network, { retries: false }) };
    const source = new SourceReader(
      { stream: patternStream(size), startsAt: 0, size, contentType: undefined, name: 'streamed.bin', version: undefined },
      { reopen: () => Promise.reject(new Error('read once')) },
    );

    // Act
    const stored = await streamToS3(clients, { bucket: 'bench', key: 'streamed.bin', headers: {} }, source, { state: undefined, save: async () => undefined }, new AbortController().signal, {
      ...defaultMultipartSettings,
      streamedPutMaxBytes: 64 * MiB,
    });

    // Assess
    expect(stored.parts).toBe(1);
    const object = sink.object('bench', 'streamed.bin');
    expect(object).toMatchObject({ size, parts: 1, crc32: patternCrc32(size) });
    expect(object?.integrity).toContain('crc32(trailer)');
    expect(sink.clock.window('/bench/streamed.bin')?.requests).toBe(1);
  });

  it('rejects a body whose Content-MD5 does not match, when verifying', async () => {
    sink.verify = true;
    await expect(
      client.send(new PutObjectCommand({ Bucket: 'bench', Key: 'bad.bin', Body: Buffer.from('abc'), ContentMD5: 'AAAAAAAAAAAAAAAAAAAAAA==' })),
    ).rejects.toMatchObject({ name: 'BadDigest' });
  });

  it('refuses to complete with a part under 5 MiB that is not the last', async () => {
    sink.verify = false;
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: 'bench', Key: 'small.bin' }));
    const parts = [];
    for (const PartNumber of [1, 2]) {
      const { ETag } = await client.send(new UploadPartCommand({ Bucket: 'bench', Key: 'small.bin', UploadId, PartNumber, Body: Buffer.alloc(1024) }));
      parts.push({ PartNumber, ETag });
    }
    await expect(
      client.send(new CompleteMultipartUploadCommand({ Bucket: 'bench', Key: 'small.bin', UploadId, MultipartUpload: { Parts: parts } })),
    ).rejects.toMatchObject({ name: 'EntityTooSmall' });
  });
});

describe('the ceiling of 4 plain PUTs at once', () => {
  it('cuts the file into consecutive ranges that cover it once', () => {
    expect(patternRanges(10, 4)).toEqual([
      { start: 0, size: 3 },
      { start: 3, size: 3 },
      { start: 6, size: 3 },
      { start: 9, size: 1 },
    ]);
    expect(patternRanges(0, 4)).toEqual([{ start: 0, size: 0 }]);
  });

  it('counts the parts that arrived, in any order, as one upload of the whole file', async () => {
    // Prepare
    const server = await startDiscardServer();
    server.verify = true;
    const size = 3 * MiB + 1;
    const ranges = patternRanges(size, 4);

    // Act: the parts sent at once, so they arrive interleaved
    try {
      await Promise.all(
        ranges.map(async (range, index) => {
          const chunks: Buffer[] = [];
          for await (const chunk of patternStream(range.size, range.start)) chunks.push(chunk as Buffer);
          const body = Buffer.concat(chunks);
          const answer = await fetch(`${server.endpoint}/bench/four.bin?part=${index + 1}`, { method: 'PUT', body });
          expect(answer.status).toBe(200);
        }),
      );
      const received = server.received('/bench/four.bin');

      // Assess
      expect(received).toEqual({ bytes: size, crc32: patternCrc32(size), requests: 4 });
      expect(server.clock.window('/bench/four.bin')?.requests).toBe(4);
    } finally {
      await server.close();
    }
  });

  it('combines part CRC-32s in part order, not arrival order', () => {
    const whole = Buffer.from('abcdefgh');
    const bodies = [
      { part: 2, bytes: 4, crc32: crc32(whole.subarray(4)) >>> 0 },
      { part: 1, bytes: 4, crc32: crc32(whole.subarray(0, 4)) >>> 0 },
    ];
    expect(combineBodies(bodies)).toEqual({ bytes: 8, crc32: crc32(whole) >>> 0, requests: 2 });
    expect(combineBodies([{ part: 1, bytes: 4, crc32: undefined }]).crc32).toBeUndefined();
  });
});

describe('the measured child process', () => {
  let folder: TemporaryFolder;
  let scratch: string;
  beforeAll(async () => {
    folder = await createTemporaryFolder('bench-child');
    scratch = folder.path;
  });
  afterAll(async () => {
    await folder.remove();
  });

  it('reads its CPU finer than 10 ms steps, its peak RSS and its output', async () => {
    // About 30 ms of CPU in a 40 MiB buffer the child fills: both must show in the figures.
    const burn = "const b = Buffer.alloc(40 * 1024 * 1024, 1); const end = performance.now() + 30; while (performance.now() < end); console.log('done', b.length)";

    const cost = await runMeasured(process.execPath, ['-e', burn], { scratch });

    const cpu = cost.userSeconds + cost.systemSeconds;
    expect(cost.stdout.trim()).toBe(`done ${40 * MiB}`);
    expect(cpu).toBeGreaterThan(0.03);
    expect(cost.wallSeconds).toBeGreaterThanOrEqual(0.03);
    expect(cost.maxRssKiB).toBeGreaterThan(40 * 1024);
    // GNU time's figures were whole hundredths; the kernel's are microseconds.
    expect(Math.round(cpu * 1e6) % 10_000).not.toBe(0);
  });

  it('fails with the exit status and the last lines of what the child said', async () => {
    const failing = runMeasured(process.execPath, ['-e', "console.error('out of luck'); process.exit(3)"], { scratch });

    await expect(failing).rejects.toThrow(ChildFailed);
    await expect(failing).rejects.toThrow(/exited with 3: out of luck/);
  });

  it('fails as a shell would for a command that is not there', async () => {
    await expect(runMeasured(join(scratch, 'no-such-program'), [], { scratch })).rejects.toThrow(/exited with 127/);
  });
});

describe('noise: the spread of a figure across runs', () => {
  it('gives min, max and (max − min) / median', () => {
    expect(spreadOf([100, 90, 110, undefined])).toEqual({ min: 90, max: 110, relative: 0.2, runs: 3 });
    expect(spreadLabel(spreadOf([100, 90, 110]))).toBe('±10%');
    expect(spreadLabel(spreadOf([100]))).toBe('1 run');
    expect(spreadOf([])).toBeUndefined();
  });
});

describe('timed runs per size', () => {
  it('gives files of 64 MiB or less at least five, larger ones the runs asked for, and one run one', () => {
    expect(timedRoundsAt(MiB, 3)).toBe(5);
    expect(timedRoundsAt(64 * MiB, 7)).toBe(7);
    expect(timedRoundsAt(256 * MiB, 3)).toBe(3);
    expect(timedRoundsAt(MiB, 1)).toBe(1);
    expect(verifiedRunIsTimed(timedRoundsAt(MiB, 1))).toBe(true);
    expect(verifiedRunIsTimed(timedRoundsAt(MiB, 3))).toBe(false);
  });
});

describe('Lambda memory model', () => {
  it('is CPU-bound below the unthrottled rate and priced by GB-seconds', () => {
    expect(modelledMibPerSecond(0.5, 2, 1000)).toBe(256);
    expect(modelledMibPerSecond(2, 2, 500)).toBe(500);
    // 1 GiB at 512 MiB/s takes 2 s; at 1,024 MB that is 2 GB-s.
    expect(costPerGiB(1024, 512)).toBeCloseTo(2 * pricePerGbSecond, 12);
    expect(vcpuShare(1769)).toBe(1);
  });
});

describe("issue 13's S3 targets", () => {
  const summary = (mibPerSecond: number, netCpuSecondsPerGiB: number, uploadCpuSecondsPerGiB?: number) => ({
    mibPerSecond,
    cpuSecondsPerGiB: netCpuSecondsPerGiB + 1,
    processMibPerSecond: undefined,
    netCpuSecondsPerGiB,
    maxRssMiB: 100,
    uploadCpuSecondsPerGiB,
    serverCpuSecondsPerGiB: undefined,
    spread: {},
  });
  const client = (name: 'ours' | 'rclone' | 'aws-cli' | 'lib-storage', mib: number, cpu: number, uploadCpu?: number) => ({
    client: name,
    label: name,
    status: 'measured' as const,
    runs: [],
    summary: summary(mib, cpu, uploadCpu),
  });

  it('compares ours with the fastest peer, on speed and on CPU', () => {
    const result = {
      target: 'sink-http',
      description: '',
      startupCpuSeconds: {},
      sizes: [
        { size: 64 * MiB, label: '64 MiB', clients: [client('ours', 500, 2), client('rclone', 450, 2.5), client('aws-cli', 300, 1)] },
        { size: GiB, label: '1 GiB', clients: [client('ours', 500, 2), client('rclone', 450, 1.5)] },
      ],
    };

    const [small, large] = bestPeerGoals(result);

    expect(small).toMatchObject({ met: true });
    expect(small?.measured).toContain('rclone');
    expect(large).toMatchObject({ met: false });
  });

  it('takes two clients whose runs cost no more than their start-up as level on CPU, and no other zero', () => {
    const result = (oursNet: number) => ({
      target: 'sink-http',
      description: '',
      startupCpuSeconds: {},
      sizes: [{ size: MiB, label: '1 MiB', clients: [client('ours', 600, oursNet), client('rclone', 500, 0)] }],
    });

    const [level] = bestPeerGoals(result(0));
    const [costlier] = bestPeerGoals(result(10.24));

    expect(level).toMatchObject({ met: true });
    expect(level?.measured).toContain('1.00× its net CPU');
    expect(costlier).toMatchObject({ met: false });
  });

  it("judges CPU by the upload's own where both clients measure it in process, whatever their start-up left", () => {
    // The 1 MiB row of a run: lib-storage's runs cost less than its start-up's median (net 0).
    const result = (oursUpload: number) => ({
      target: 'sink-http',
      description: '',
      startupCpuSeconds: {},
      sizes: [{ size: MiB, label: '1 MiB', clients: [client('ours', 180, 4.03, oursUpload), client('lib-storage', 174, 0, 65.06), client('rclone', 113, 9.89)] }],
    });

    const [cheaper] = bestPeerGoals(result(50.52));
    const [costlier] = bestPeerGoals(result(70));

    expect(cheaper).toMatchObject({ met: true });
    expect(cheaper?.measured).toContain("0.78× its upload's CPU");
    expect(costlier).toMatchObject({ met: false });
  });

  it('takes the same CPU, summed in another order, as equal', () => {
    // Net CPU of 70 ms over an 8 MiB upload, as the recorded run summed it for each client.
    const ours = 8.960000000000004;
    const rclone = 8.96;
    const result = {
      target: 'sink-http',
      description: '',
      startupCpuSeconds: {},
      sizes: [{ size: 8 * MiB, label: '8 MiB', clients: [client('ours', 600, ours), client('rclone', 500, rclone), client('aws-cli', 100, 1)] }],
    };

    const [goal] = bestPeerGoals(result);

    expect(ours).not.toBe(rclone);
    expect(goal).toMatchObject({ met: true });
  });
});

describe('the memory target', () => {
  const result = (source: 'url' | 'generated', peaks: readonly number[]) => ({
    target: 'sink-http',
    source,
    floorRssMiB: 55,
    sizes: peaks.map((peak, index) => ({ size: [64 * MiB, GiB, 4 * GiB][index]!, label: String(index), peakRssMiB: peak, runsRssMiB: [peak], mibPerSecond: 1, cpuSecondsPerGiB: 1 })),
  });

  it('judges the source read as a function reads it, within 10 % across the sizes, and reports a generated one without judging it', () => {
    expect(memoryTargetGoals(result('url', [100, 105, 110]))).toMatchObject([{ met: true }]);
    expect(memoryTargetGoals(result('url', [100, 105, 111]))).toMatchObject([{ met: false, measured: expect.stringContaining('spread +11 %') }]);
    expect(memoryTargetGoals(result('generated', [100, 150, 160]))).toEqual([]);
  });
});

describe('the pattern served as a source URL', () => {
  it('serves the pattern whole, and any range of it of the same version (If-Match), as a staging object answers', async () => {
    const server = await startPatternServer();
    try {
      const whole = await fetch(server.url(100_000));
      const part = await fetch(server.url(100_000), { headers: { range: 'bytes=70000-79999', 'if-match': whole.headers.get('etag')! } });
      const other = await fetch(server.url(100_000), { headers: { range: 'bytes=0-9', 'if-match': '"another"' } });

      expect(whole.headers.get('accept-ranges')).toBe('bytes');
      expect(crc32(Buffer.from(await whole.arrayBuffer()))).toBe(patternCrc32(100_000));
      expect(part.status).toBe(206);
      expect(part.headers.get('content-range')).toBe('bytes 70000-79999/100000');
      expect(Buffer.from(await part.arrayBuffer()).equals((await collect(80_000)).subarray(70_000))).toBe(true);
      expect(other.status).toBe(412);
    } finally {
      await server.close();
    }
  });
});

describe('per-destination summary', () => {
  it('picks the fastest measured peer', () => {
    const peers = [
      { label: 'a', mibPerSecond: 10, cpuSecondsPerGiB: 1, maxRssMiB: 1 },
      { label: 'b', mibPerSecond: 30, cpuSecondsPerGiB: 1, maxRssMiB: 1 },
      { label: 'c', mibPerSecond: undefined, cpuSecondsPerGiB: 1, maxRssMiB: 1 },
      undefined,
    ];
    expect(bestOf(peers)?.label).toBe('b');
    expect(bestOf([undefined])).toBeUndefined();
  });
});

describe('Lambda memory recommendation', () => {
  it('gives enough CPU to keep up with the network, or enough memory for the peak RSS, whichever is more', () => {
    // 1 CPU-s/GiB at 100 MiB/s wants 0.098 vCPU (173 MB); 150 MiB of RSS with headroom wants 236 MB.
    expect(recommendedMemoryMb(1, 150)).toEqual({ memoryMb: 256, bound: 'memory' });
    // 4 CPU-s/GiB wants 0.39 vCPU: 691 MB.
    expect(recommendedMemoryMb(4, 150)).toEqual({ memoryMb: 704, bound: 'cpu' });
  });
});
