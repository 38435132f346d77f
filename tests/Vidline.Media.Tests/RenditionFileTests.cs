namespace Vidline.Media.Tests;

public class RenditionFileTests
{
    private static readonly RenditionTarget Rung = new("720p", 1280, 720, 2800, 128);

    [Fact]
    public void A_silent_rendition_travels_with_audio_bitrate_zero_and_comes_back_silent()
    {
        var rendition = new RenditionFile("/s/720p.mp4", Rung, HasAudio: false).ToRendition("work/j/720p.mp4");

        Assert.Equal(0, rendition.AudioBitrateKbps);
        Assert.False(RenditionFile.From(rendition, "/s/720p.mp4").HasAudio);
    }

    [Fact]
    public void A_rendition_with_audio_round_trips_unchanged()
    {
        var file = new RenditionFile("/s/720p.mp4", Rung, HasAudio: true);

        Assert.Equal(file, RenditionFile.From(file.ToRendition("work/j/720p.mp4"), "/s/720p.mp4"));
    }

    [Fact]
    public void The_shared_sound_track_travels_as_its_own_key_and_comes_back_as_a_path()
    {
        var file = new RenditionFile("/s/720p/media.m3u8", Rung, HasAudio: true, AudioPath: "/s/audio/media.m3u8");

        var rendition = file.ToRendition("work/j/720p/media.m3u8", "work/j/audio/media.m3u8");

        Assert.Equal("work/j/audio/media.m3u8", rendition.AudioKey);
        Assert.Equal(file, RenditionFile.From(rendition, "/s/720p/media.m3u8", "/s/audio/media.m3u8"));
    }
}
