import { describe, expect, it } from 'vitest';
import { ChunkedBody } from '../../shared/net/chunked-body.ts';
import { bodyFraming, connectionPersists, MalformedResponseError, parseResponseHead } from '../../shared/net/response-head.ts';

/** Decodes `encoded` fed in two reads cut at `cut`, each read landing after the data decoded so far. */
function decodeCutAt(encoded: string, cut: number): { data: string; done: boolean } {
  const body = new ChunkedBody();
  const buffer = Buffer.alloc(encoded.length);
  let end = 0;
  for (const piece of [encoded.slice(0, cut), encoded.slice(cut)]) {
    const written = buffer.write(piece, end, 'latin1');
    end = body.decode(buffer, end, end + written);
  }
  return { data: buffer.toString('latin1', 0, end), done: body.done };
}

describe('ChunkedBody', () => {
  const encoded = '4\r\nWiki\r\n7;name=value\r\npedia i\r\nB\r\nn \r\nchunks.\r\n0\r\nExpires: never\r\n\r\n';

  it('decodes a body in place however its reads are cut, trailers dropped', () => {
    for (let cut = 0; cut <= encoded.length; cut += 1) {
      expect(decodeCutAt(encoded, cut), `cut at ${cut}`).toEqual({ data: 'Wikipedia in \r\nchunks.', done: true });
    }
  });

  it('is not done before its last chunk and empty trailer line', () => {
    expect(decodeCutAt(encoded.slice(0, -2), 10).done).toBe(false);
  });

  it.each([
    ['a size that is not hex', 'xyz\r\n'],
    ['a chunk longer than its size', '2\r\nabc\r\n'],
    ['a line ended by LF alone', '2\nab\r\n'],
    ['an endless size line', `${'1'.repeat(5000)}`],
  ])('refuses %s', (_case, text) => {
    expect(() => decodeCutAt(text, 1)).toThrow(MalformedResponseError);
  });
});

describe('parseResponseHead and bodyFraming', () => {
  it('reads the status, and headers by their lower-case names, repeated ones joined', () => {
    const head = parseResponseHead('HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-1/2\r\nVary: a\r\nvary: b\r\nSet-Cookie: x=1\r\nSet-Cookie: y=2\r\nX-Empty:');

    expect(head).toEqual({
      httpVersion: '1.1',
      statusCode: 206,
      statusMessage: 'Partial Content',
      headers: { 'content-range': 'bytes 0-1/2', vary: 'a, b', 'set-cookie': ['x=1', 'y=2'], 'x-empty': '' },
    });
  });

  it.each([
    ['HTTP/1.1', 'HTTP/1.1 200 OK\r\nContent-Length: 0', true],
    ['HTTP/1.1 saying close', 'HTTP/1.1 200 OK\r\nConnection: Keep-Alive, Close', false],
    ['HTTP/1.0', 'HTTP/1.0 200 OK\r\nContent-Length: 0', false],
    ['HTTP/1.0 saying keep-alive', 'HTTP/1.0 200 OK\r\nConnection: keep-alive', true],
  ])('lets the connection of an answer over %s carry another request: %s', (_case, text, persists) => {
    expect(connectionPersists(parseResponseHead(text))).toBe(persists);
  });

  it.each([
    ['a length', 'Content-Length: 12', { kind: 'length', length: 12 }],
    ['the same length twice', 'Content-Length: 12, 12', { kind: 'length', length: 12 }],
    ['chunked last, over a length', 'Transfer-Encoding: gzip, chunked\r\nContent-Length: 3', { kind: 'chunked' }],
    ['another coding only', 'Transfer-Encoding: gzip', { kind: 'close' }],
    ['nothing', 'X-A: 1', { kind: 'close' }],
  ])('frames a body by %s', (_case, headers, framing) => {
    expect(bodyFraming(parseResponseHead(`HTTP/1.1 200 OK\r\n${headers}`))).toEqual(framing);
  });

  it('gives no body to 204 and 304, whatever their headers say', () => {
    expect(bodyFraming(parseResponseHead('HTTP/1.1 204 No Content\r\nContent-Length: 10'))).toEqual({ kind: 'length', length: 0 });
    expect(bodyFraming(parseResponseHead('HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked'))).toEqual({ kind: 'length', length: 0 });
  });

  it.each([
    ['a negative length', 'Content-Length: -1'],
    ['a length that is not a number', 'Content-Length: 1e3'],
    ['a control character in a value', 'X-A: a\u0001b'],
  ])('refuses %s', (_case, headers) => {
    expect(() => bodyFraming(parseResponseHead(`HTTP/1.1 200 OK\r\n${headers}`))).toThrow(MalformedResponseError);
  });
});
