import { describe, expect, it } from 'vitest';
import { foldersAbove, ftpFileUrl, temporaryPathBeside } from '../../functions/destinations/ftp/address.ts';

describe('FTP paths and URLs', () => {
  it.each([
    [{ hostname: 'ftp.example.com', port: 21, secure: false as const }, '/videos/welcome.mp4', 'ftp://ftp.example.com/videos/welcome.mp4'],
    [{ hostname: 'ftp.example.com', port: 2121, secure: false as const }, 'renders/a b.mp4', 'ftp://ftp.example.com:2121/renders/a%20b.mp4'],
    [{ hostname: 'ftp.example.com', port: 21, secure: 'explicit' as const }, '/a.mp4', 'ftps://ftp.example.com:21/a.mp4'],
    [{ hostname: 'ftp.example.com', port: 990, secure: 'implicit' as const }, '/a.mp4', 'ftps://ftp.example.com/a.mp4'],
    [{ hostname: '2001:db8::7', port: 21, secure: false as const }, '/a#1.mp4', 'ftp://[2001:db8::7]/a%231.mp4'],
  ])('answers %o with %s as %s', (server, path, url) => {
    expect(ftpFileUrl(server, path)).toBe(url);
  });

  it.each([
    ['/videos/2025/welcome.mp4', ['/videos', '/videos/2025']],
    ['renders/a.mp4', ['renders']],
    ['/welcome.mp4', []],
    ['welcome.mp4', []],
  ])('lists the folders above %s, outermost first', (path, folders) => {
    expect(foldersAbove(path)).toEqual(folders);
  });

  it('names a fresh hidden temporary file beside the final one, each time another', () => {
    const first = temporaryPathBeside('/videos/welcome.mp4');
    const second = temporaryPathBeside('/videos/welcome.mp4');

    expect(first).toMatch(/^\/videos\/\.welcome\.mp4\.[0-9a-f]{16}\.partial$/);
    expect(second).not.toBe(first);
    expect(temporaryPathBeside('welcome.mp4')).toMatch(/^\.welcome\.mp4\.[0-9a-f]{16}\.partial$/);
  });

  it.each(['é', '映', '🎬'])('keeps a temporary name within the 255 bytes of a file name for a long name of %s', (character) => {
    const name = temporaryPathBeside(`/videos/${character.repeat(250)}.mp4`).split('/').pop()!;

    expect(Buffer.byteLength(name)).toBeLessThanOrEqual(255);
    expect(name).toMatch(new RegExp(`^\\.${character}+\\.[0-9a-f]{16}\\.partial$`, 'u'));
  });
});
