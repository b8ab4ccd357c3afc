import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../infra/cli/upload-destinations/program.ts';
import { startTestServer, type TestServer } from '../support/http-servers.ts';
import { resolveConnection, UsageError } from '../../infra/cli/upload-destinations/connection.ts';
import { parseDestinations } from '../../infra/cli/upload-destinations/destination-argument.ts';

let folder: string;
/** An API that notes every request it gets, and answers none of them usefully. */
let api: TestServer;
const requests: string[] = [];

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'ud-cli-unit-'));
  api = await startTestServer((request, response) => {
    requests.push(`${request.method} ${request.url}`);
    response.writeHead(500).end();
  });
});

afterAll(async () => {
  await api.close();
  await rm(folder, { recursive: true, force: true });
});

/** Runs the CLI in-process; its exit status and what it wrote. */
async function cli(...argv: string[]): Promise<{ code: number; output: string }> {
  const output: Buffer[] = [];
  const stream = new PassThrough().on('data', (chunk: Buffer) => output.push(chunk));
  const code = await runCli(argv, { stdout: stream, stderr: stream, env: {}, terminal: false });
  return { code, output: Buffer.concat(output).toString() };
}

describe('CLI: --to', () => {
  it('reads type:key=value pairs, nesting dotted keys, keeping JSON values typed and escaped commas in values', async () => {
    const [destination] = await parseDestinations('s3:bucket=videos,filename=renders/a\\,b.mp4,metadata.render=42,metadata.team=web,aws_use_policy=true,tags={"a":"b"}');

    expect(destination).toEqual({
      type: 's3',
      bucket: 'videos',
      filename: 'renders/a,b.mp4',
      metadata: { render: 42, team: 'web' },
      aws_use_policy: true,
      tags: { a: 'b' },
    });
  });

  it('reads a JSON file holding one destination or several', async () => {
    const one = join(folder, 'one.json');
    const many = join(folder, 'many.json');
    await writeFile(one, JSON.stringify({ type: 'http', url: 'https://example.com/in', filename: 'a' }));
    await writeFile(many, JSON.stringify([{ type: 's3', bucket: 'b' }, { type: 'sftp', host: 'h' }]));

    expect(await parseDestinations(one)).toEqual([{ type: 'http', url: 'https://example.com/in', filename: 'a' }]);
    expect((await parseDestinations(many)).map((destination) => destination.type)).toEqual(['s3', 'sftp']);
  });

  it.each([
    ['a field without a value', 's3:bucket', "'bucket' is not key=value"],
    ['a missing file', join('nowhere', 'destination.json'), 'not a readable JSON file'],
    ['a key that is both a value and an object', 's3:metadata=1,metadata.a=2', "'metadata' is both a value and an object"],
  ])('refuses %s, saying why', async (_case, argument, message) => {
    await expect(parseDestinations(argument)).rejects.toThrow(message);
  });

  it('refuses a file without a type', async () => {
    const file = join(folder, 'typeless.json');
    await writeFile(file, JSON.stringify({ bucket: 'b' }));

    await expect(parseDestinations(file)).rejects.toThrow(UsageError);
  });
});

describe('CLI: the connection', () => {
  const warnings: string[] = [];
  const surroundings = (env: Record<string, string>) => ({ env, warn: (text: string) => warnings.push(text) });

  it('talks to the local runtime when nothing else is named', async () => {
    expect(await resolveConnection({}, surroundings({}))).toEqual({ api: 'http://127.0.0.1:3000', apiKey: undefined, region: undefined, local: true });
    expect((await resolveConnection({}, surroundings({ PORT: '3100' }))).api).toBe('http://127.0.0.1:3100');
  });

  it('takes --api over the environment, and the key from the environment only', async () => {
    const env = { UPLOAD_DESTINATIONS_API: 'https://env.example.com/prod', UPLOAD_DESTINATIONS_API_KEY: 'k-env' };

    const connection = await resolveConnection({ api: 'https://abc.execute-api.eu-west-1.amazonaws.com/prod/' }, surroundings(env));

    expect(connection).toMatchObject({ api: 'https://abc.execute-api.eu-west-1.amazonaws.com/prod', apiKey: 'k-env', local: false });
  });

  it('reads a named profile, warning when others may read the file', async () => {
    const file = join(folder, 'config.json');
    await writeFile(file, JSON.stringify({ profiles: { prod: { api: 'https://api.example.com/prod', api_key: 'k-profile', region: 'eu-west-1' } } }));
    await chmod(file, 0o644);
    warnings.length = 0;

    const connection = await resolveConnection({ profile: 'prod' }, surroundings({ UPLOAD_DESTINATIONS_CONFIG: file }));
    await chmod(file, 0o600);
    const quiet = await resolveConnection({ profile: 'prod' }, surroundings({ UPLOAD_DESTINATIONS_CONFIG: file }));

    expect(connection).toEqual({ api: 'https://api.example.com/prod', apiKey: 'k-profile', region: 'eu-west-1', local: false });
    expect(quiet.apiKey).toBe('k-profile');
    expect(warnings).toEqual([`warning: ${file} can be read by other users; chmod 600 it`]);
  });

  it.each([
    ['an unknown profile', { profile: 'staging' }, "profile 'staging' is not in"],
    ['an API that is not an http URL', { api: 'ftp://example.com' }, '--api must be an http(s) URL'],
  ])('refuses %s', async (_case, options, message) => {
    const file = join(folder, 'config.json');
    await writeFile(file, JSON.stringify({ profiles: {} }), { mode: 0o600 });

    await expect(resolveConnection(options, surroundings({ UPLOAD_DESTINATIONS_CONFIG: file }))).rejects.toThrow(message);
  });
});

describe('CLI: bad input', () => {
  it.each([
    ['retry --index with no number', ['retry', 'ud_x', '--index', ''], "--index must be a destination's index (0-99), got ''"],
    ['retry --index with a word', ['retry', 'ud_x', '--index', 'abc'], "--index must be a destination's index (0-99), got 'abc'"],
    ['retry --index with a fraction', ['retry', 'ud_x', '--index', '0', '--index', '1.5'], "--index must be a destination's index (0-99), got '1.5'"],
    ['redrive --sqs-endpoint that is no URL', ['redrive', 's3', '--sqs-endpoint', 'localhost:9324'], "--sqs-endpoint must be an http(s) URL, got 'localhost:9324'"],
    ['bucket-policy --endpoint that is no URL', ['bucket-policy', 'videos', '--endpoint', 's3.local'], "--endpoint must be an http(s) URL, got 's3.local'"],
  ])('refuses %s, naming the argument, exit status 2, asking nothing of the API', async (_case, argv, message) => {
    requests.length = 0;

    const run = await cli('--api', api.url, ...argv);

    expect(run).toEqual({ code: 2, output: `error: ${message}\n` });
    expect(requests).toEqual([]);
  });

  it('refuses an --api URL that carries a password, without printing it', async () => {
    const run = await cli('--api', 'https://operator:pa55-w0rd@api.example.com/prod', 'status', 'ud_x');

    expect(run.code).toBe(2);
    expect(run.output).toContain('--api must not carry a user name or password');
    expect(run.output).not.toContain('pa55-w0rd');
  });
});
