import { describe, expect, it } from 'vitest';
import { objectUrl, s3Addressing } from '../../functions/destinations/s3/endpoint.ts';
import { s3DestinationSchema } from '../../functions/destinations/s3/schema.ts';

function destination(fields: Record<string, unknown>) {
  return s3DestinationSchema.parse({ type: 's3', bucket: 'my-videos', filename: 'a.mp4', credentials: 'team-s3', ...fields });
}

describe('S3 addressing and object URLs', () => {
  it.each([
    [{}, 'https://my-videos.s3.amazonaws.com/renders/welcome.mp4'],
    [{ region: 'eu-central-1' }, 'https://my-videos.s3.eu-central-1.amazonaws.com/renders/welcome.mp4'],
    [{ s3host: 's3.eu-central-1.amazonaws.com' }, 'https://my-videos.s3.eu-central-1.amazonaws.com/renders/welcome.mp4'],
    [{ bucket: 'videos.example.com' }, 'https://s3.amazonaws.com/videos.example.com/renders/welcome.mp4'],
    [{ endpoint: 'https://abc.r2.cloudflarestorage.com', region: 'auto' }, 'https://abc.r2.cloudflarestorage.com/my-videos/renders/welcome.mp4'],
    [{ endpoint: 'http://127.0.0.1:9000' }, 'http://127.0.0.1:9000/my-videos/renders/welcome.mp4'],
    [{ endpoint: 'http://127.0.0.1:9000', secure: true }, 'https://127.0.0.1:9000/my-videos/renders/welcome.mp4'],
    [{ endpoint: 'https://nyc3.digitaloceanspaces.com', force_path_style: false }, 'https://my-videos.nyc3.digitaloceanspaces.com/renders/welcome.mp4'],
  ])('answers %j with %s', (fields, url) => {
    expect(objectUrl(destination(fields), 'renders/welcome.mp4')).toBe(url);
  });

  it('encodes each key segment and keeps the slashes', () => {
    expect(objectUrl(destination({}), 'a b/c#d?.mp4')).toBe('https://my-videos.s3.amazonaws.com/a%20b/c%23d%3F.mp4');
  });

  it('takes the region from s3host, in both AWS spellings', () => {
    expect(s3Addressing(destination({ s3host: 's3-eu-west-1.amazonaws.com' })).region).toBe('eu-west-1');
    expect(s3Addressing(destination({ s3host: 'https://s3.dualstack.us-west-2.amazonaws.com' }))).toEqual({
      endpoint: 'https://s3.dualstack.us-west-2.amazonaws.com',
      region: 'us-west-2',
      forcePathStyle: false,
    });
    expect(s3Addressing(destination({ s3host: 's3.amazonaws.com' })).region).toBe('us-east-1');
  });
});
