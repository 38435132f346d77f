import { expect, it } from 'vitest';
import { variantsOf } from './manifest';

it('lists each variant stream of a master playlist with its size and bandwidth, resolved against the playlist', () => {
  const master = [
    '#EXTM3U',
    '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="audio",DEFAULT=YES,URI="media_2.m3u8"',
    '#EXT-X-STREAM-INF:BANDWIDTH=1745000,AVERAGE-BANDWIDTH=1500000,RESOLUTION=854x480,CODECS="avc1.64001e,mp4a.40.2",AUDIO="a"',
    'media_0.m3u8',
    '',
    '#EXT-X-STREAM-INF:BANDWIDTH=1023000,RESOLUTION=640x360',
    'media_1.m3u8',
  ].join('\r\n');
  expect(variantsOf(master, '/outputs/job/master.m3u8', 'http://edge')).toEqual([
    { url: '/outputs/job/media_0.m3u8', width: 854, height: 480, bandwidth: 1745000 },
    { url: '/outputs/job/media_1.m3u8', width: 640, height: 360, bandwidth: 1023000 },
  ]);
});

it('finds nothing in a media playlist', () => {
  expect(variantsOf('#EXTM3U\n#EXTINF:2.0,\nchunk-1.m4s\n', '/outputs/job/media_0.m3u8', 'http://edge')).toEqual([]);
});
