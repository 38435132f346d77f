namespace Vidline.Media.Tests;

public class HlsMasterPlaylistTests
{
    // What ffmpeg 5.1's dash muxer wrote with -hls_playlist 1 for a three-rung ladder.
    private const string Complete = """
        #EXTM3U
        #EXT-X-VERSION:7
        #EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="group_A1",NAME="audio_3",DEFAULT=YES,URI="media_3.m3u8"
        #EXT-X-STREAM-INF:BANDWIDTH=3278939,RESOLUTION=1280x720,CODECS="avc1.64001f,mp4a.40.2",AUDIO="group_A1"
        media_0.m3u8

        #EXT-X-STREAM-INF:BANDWIDTH=1656310,RESOLUTION=854x480,CODECS="avc1.64001f,mp4a.40.2",AUDIO="group_A1"
        media_1.m3u8

        """;

    // The same with attributes missing, as from muxers that cannot see the streams' details.
    private const string Lacking = """
        #EXTM3U
        #EXT-X-VERSION:7
        #EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="group_A1",NAME="audio_2",DEFAULT=YES,URI="media_2.m3u8"
        #EXT-X-STREAM-INF:BANDWIDTH=3278939,AUDIO="group_A1"
        media_0.m3u8
        #EXT-X-STREAM-INF:AUDIO="group_A1"
        media_1.m3u8
        """;

    [Fact]
    public void Parses_variants_with_quoted_commas()
    {
        var master = HlsMasterPlaylist.Parse(Complete);

        Assert.Equal(["media_0.m3u8", "media_1.m3u8"], master.Variants.Select(v => v.Uri));
        Assert.Equal("avc1.64001f,mp4a.40.2", master.Variants[0]["CODECS"]);
        Assert.Equal("854x480", master.Variants[1]["RESOLUTION"]);
        Assert.Empty(master.Problems());
    }

    [Fact]
    public void Round_trips_unchanged_apart_from_trailing_blank_lines() =>
        Assert.Equal(Complete.TrimEnd() + "\n", HlsMasterPlaylist.Parse(Complete).ToString());

    [Fact]
    public void Reports_missing_attributes()
    {
        var problems = HlsMasterPlaylist.Parse(Lacking).Problems();

        Assert.Contains("media_0.m3u8: RESOLUTION", problems);
        Assert.Contains("media_1.m3u8: BANDWIDTH", problems);
        Assert.Contains("media_1.m3u8: CODECS", problems);
    }
}
