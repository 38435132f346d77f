using Vidline.StageWorker;

namespace Vidline.Media.Tests;

[Collection(MediaCollection.Name)]
public class AbrPackagerTests(TestMedia media)
{
    [Fact]
    public async Task Packages_dash_and_hls_that_ffmpeg_can_read_back()
    {
        var renditions = await media.Ladder720Async();
        var dir = media.NewWorkDirectory("package");

        var package = await new AbrPackager().PackageAsync(renditions, dir);

        Assert.Equal(new AbrPackage("master.m3u8", "manifest.mpd"), package);
        var master = HlsMasterPlaylist.Parse(await File.ReadAllTextAsync(Path.Combine(dir, package.HlsMaster)));
        Assert.Empty(master.Problems());
        Assert.Equal(renditions.Count, master.Variants.Count);

        foreach (var variant in master.Variants)
        {
            Assert.Matches(@"^avc1\.[0-9a-f]{6},mp4a\.40\.2$", variant["CODECS"]);
            Assert.True(long.Parse(variant["BANDWIDTH"]!) > 0);

            var playlist = Path.Combine(dir, variant.Uri);
            Assert.Equal(variant["RESOLUTION"], await VideoSize(playlist));
            await ReadThrough(playlist);
        }

        // Absolute path: ffprobe resolves a relative .mpd's segments against the wrong directory.
        var mpd = Path.GetFullPath(Path.Combine(dir, package.DashManifest));
        var sizes = await StreamSizes(mpd);
        Assert.Equal(["1280x720", "854x480", "640x360", "audio"], sizes);
        await ReadThrough(mpd);
    }

    [Fact]
    public async Task Packages_video_without_audio()
    {
        // Tell the transcoder the source is silent, so the renditions carry video only.
        var info = await new MediaProbe(media.Runner).ProbeAsync(media.Clip360) with { HasAudio = false };
        var options = new LadderOptions();
        var renditions = await new LadderTranscoder(media.Runner, options).TranscodeAsync(
            media.Clip360, info, new RenditionLadder(options).For(info), media.NewWorkDirectory("silent"));
        var dir = media.NewWorkDirectory("package-silent");

        var package = await new AbrPackager().PackageAsync(renditions, dir);

        var master = HlsMasterPlaylist.Parse(await File.ReadAllTextAsync(Path.Combine(dir, package.HlsMaster)));
        var variant = Assert.Single(master.Variants);
        Assert.Empty(master.Problems());
        Assert.Matches(@"^avc1\.[0-9a-f]{6}$", variant["CODECS"]);
        Assert.Equal(["640x360"], await StreamSizes(Path.GetFullPath(Path.Combine(dir, package.DashManifest))));
        await ReadThrough(Path.Combine(dir, variant.Uri));
    }

    [Fact]
    public async Task Refuses_a_track_whose_segments_do_not_follow_each_other()
    {
        var info = await new MediaProbe(media.Runner).ProbeAsync(media.Clip360);
        var options = new LadderOptions();
        var renditions = await new LadderTranscoder(media.Runner, options).TranscodeAsync(
            media.Clip360, info, new RenditionLadder(options).For(info), media.NewWorkDirectory("gap"));
        // The second segment replaced by the first: the timeline goes back where it should go on.
        var track = Path.GetDirectoryName(renditions[0].Path)!;
        File.Copy(Path.Combine(track, SegmentedTrack.SegmentName(1)), Path.Combine(track, SegmentedTrack.SegmentName(2)), overwrite: true);
        var dir = media.NewWorkDirectory("package-gap");

        var refused = await Assert.ThrowsAsync<InvalidDataException>(() => new AbrPackager().PackageAsync(renditions, dir));

        Assert.Contains("seg-00002.m4s starts at", refused.Message);
        Assert.False(File.Exists(Path.Combine(dir, AbrPackager.HlsMasterName)));
        // The same segments would be refused again: the job fails at once, saying why, rather than being retried.
        Assert.Equal(new FailureVerdict(refused.Message, true), FailureVerdict.Of(refused));
    }

    [Theory]
    [InlineData("../../escaped/720p", "720p")]
    [InlineData("audio", "720p")]
    [InlineData("master.m3u8", "720p")]
    [InlineData("720p", "720p")]
    public async Task Refuses_rendition_names_that_are_not_folders_of_their_own_before_writing_anything(string name, string other)
    {
        var ladder = await media.Ladder720Async();
        var renditions = ladder.Select((r, i) => i == 0 ? r with { Target = r.Target with { Name = other } }
            : i == 1 ? r with { Target = r.Target with { Name = name } } : r).ToList();
        var work = media.NewWorkDirectory("package-names");
        var dir = Path.Combine(work, "job", "package");

        var refused = await Assert.ThrowsAsync<InvalidDataException>(() => new AbrPackager().PackageAsync(renditions, dir));

        Assert.Contains($"'{name}'", refused.Message);
        var verdict = FailureVerdict.Of(refused)!;
        Assert.True(verdict.Permanent);
        Assert.Contains($"'{name}'", verdict.Reason);
        Assert.False(Directory.Exists(dir));
        Assert.False(Directory.Exists(Path.Combine(work, "escaped")));
    }

    [Fact]
    public async Task Links_the_segments_instead_of_copying_them()
    {
        var renditions = await media.Ladder720Async();
        var dir = media.NewWorkDirectory("package-links");

        await new AbrPackager().PackageAsync(renditions, dir);

        var packaged = new FileInfo(Path.Combine(dir, renditions[0].Target.Name, SegmentedTrack.SegmentName(1)));
        var encoded = new FileInfo(Path.Combine(Path.GetDirectoryName(renditions[0].Path)!, SegmentedTrack.SegmentName(1)));
        Assert.Equal(encoded.Length, packaged.Length);
        // One file under two names: the link count of the transcoder's segment went up.
        Assert.True(LinkCount(encoded.FullName) >= 2, "the packaged segment is a copy");
    }

    private static long LinkCount(string path)
    {
        var stat = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("stat") { ArgumentList = { "-c", "%h", path }, RedirectStandardOutput = true })!;
        var text = stat.StandardOutput.ReadToEnd();
        stat.WaitForExit();
        return long.Parse(text.Trim());
    }

    private async Task<string> VideoSize(string path) => (await StreamSizes(path)).First(s => s != "audio");

    /// <summary>"WxH" per video stream, "audio" per audio stream, in stream order.</summary>
    private async Task<List<string>> StreamSizes(string path)
    {
        var args = new List<string> { "-v", "error", "-show_entries", "stream=codec_type,width,height", "-of", "csv=p=0" };
        HardenedInput.AddTo(args, path);
        var lines = new List<string>();
        await media.Runner.RunFfprobeAsync(args, line => { if (line.Trim().Length > 0) lines.Add(line.Trim()); });
        // ffprobe lists streams once per program and once overall; the overall list comes last.
        var overall = lines.Skip(lines.Count / 2).ToList();
        return overall.Select(l => l.StartsWith("video") ? l["video,".Length..].Replace(',', 'x') : "audio").ToList();
    }

    /// <summary>Demuxes every stream to the end, so every segment the manifest names must exist and parse.</summary>
    private async Task ReadThrough(string manifest)
    {
        var args = new List<string> { "-v", "error" };
        HardenedInput.AddTo(args, manifest);
        args.AddRange(["-map", "0", "-c", "copy", "-f", "null", "-"]);
        var result = await media.Runner.RunFfmpegAsync(args);
        Assert.DoesNotContain(result.StderrTail, l => l.Contains("rror"));
    }
}
