using Vidline.Media;

namespace Vidline.Media.Tests;

/// <summary>
/// Tiny clips generated with ffmpeg when the tests start, in a temp directory removed afterwards.
/// Sources are written without +faststart, so cutting one in half loses its index (moov atom).
/// </summary>
public sealed class TestMedia : IAsyncLifetime
{
    public string Directory { get; } = Path.Combine(Path.GetTempPath(), "vidline-media-tests-" + Guid.NewGuid().ToString("N")[..8]);
    public MediaOptions Options { get; } = new();
    public FfmpegRunner Runner { get; }

    public string Clip360 => In("clip360.mp4");
    public string Clip720 => In("clip720.mp4");
    public string AudioOnly => In("audio-only.m4a");
    public string ZeroBytes => In("zero.mp4");
    public string TextFile => In("not-a-video.mp4");
    public string Truncated => In("truncated.mp4");
    public string TruncatedFaststart => In("truncated-faststart.mp4");

    private Task<IReadOnlyList<RenditionFile>>? _ladder720;
    private Task<string>? _long1080;
    private Task<string>? _long480;

    public TestMedia() => Runner = new FfmpegRunner(Options);

    public string In(string name) => Path.Combine(Directory, name);

    public string NewWorkDirectory(string prefix)
    {
        var dir = In(prefix + "-" + Guid.NewGuid().ToString("N")[..6]);
        System.IO.Directory.CreateDirectory(dir);
        return dir;
    }

    public async Task InitializeAsync()
    {
        System.IO.Directory.CreateDirectory(Directory);
        await Task.WhenAll(
            Synthesize(Clip360, 640, 360, 3, withAudio: true),
            Synthesize(Clip720, 1280, 720, 3, withAudio: true));
        await Ffmpeg(["-f", "lavfi"], "sine=frequency=440:duration=1", ["-c:a", "aac", AudioOnly]);

        await File.WriteAllBytesAsync(ZeroBytes, []);
        await File.WriteAllTextAsync(TextFile, "This is a shopping list, not a video.\nmilk\neggs\n");

        var bytes = await File.ReadAllBytesAsync(Clip360);
        await File.WriteAllBytesAsync(Truncated, bytes[..(bytes.Length / 2)]);

        // Index at the front: the half file still probes, which is the harder case to catch.
        var faststart = In("faststart.mp4");
        await Ffmpeg([], Clip360, ["-c", "copy", "-movflags", "+faststart", faststart]);
        bytes = await File.ReadAllBytesAsync(faststart);
        await File.WriteAllBytesAsync(TruncatedFaststart, bytes[..(bytes.Length / 2)]);
    }

    /// <summary>The 720p clip encoded with the default ladder (720p/480p/360p), made once on first use.</summary>
    public Task<IReadOnlyList<RenditionFile>> Ladder720Async() => _ladder720 ??= MakeLadder720();

    private async Task<IReadOnlyList<RenditionFile>> MakeLadder720()
    {
        var info = await new MediaProbe(Runner).ProbeAsync(Clip720);
        var ladderOptions = new LadderOptions();
        var rungs = new RenditionLadder(ladderOptions).For(info);
        return await new LadderTranscoder(Runner, ladderOptions).TranscodeAsync(Clip720, info, rungs, In("ladder720"));
    }

    /// <summary>
    /// A 20 s 1080p clip for cancellation: 2 s are encoded and then looped with stream copy,
    /// which is far cheaper than encoding 20 s.
    /// </summary>
    public Task<string> Long1080Async() => _long1080 ??= MakeLong1080();

    private async Task<string> MakeLong1080()
    {
        var shortClip = In("short1080.mp4");
        var longClip = In("long1080.mp4");
        await Synthesize(shortClip, 1920, 1080, 2, withAudio: false);
        await Ffmpeg(["-stream_loop", "9"], shortClip, ["-c", "copy", longClip]);
        return longClip;
    }

    /// <summary>
    /// A 30 s 480p clip with sound (two rungs, fifteen segments), long enough to interrupt an encode part-way. Its sound
    /// is at 44.1 kHz, where an AAC frame is no whole number of microseconds (a resumed sound must still line up).
    /// </summary>
    public Task<string> Long480Async() => _long480 ??= MakeLong480();

    private async Task<string> MakeLong480()
    {
        var clip = In("long480.mp4");
        await Synthesize(clip, 854, 480, 30, withAudio: true, sampleRate: 44100);
        return clip;
    }

    private async Task Synthesize(string path, int width, int height, int seconds, bool withAudio, int sampleRate = 48000)
    {
        var args = new List<string> { "-f", "lavfi" };
        HardenedInput.AddTo(args, $"testsrc2=size={width}x{height}:rate=30:duration={seconds}");
        if (withAudio)
        {
            args.AddRange(["-f", "lavfi"]);
            HardenedInput.AddTo(args, $"sine=frequency=440:sample_rate={sampleRate}:duration={seconds}");
        }
        args.AddRange(["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "30"]);
        if (withAudio) args.AddRange(["-c:a", "aac", "-b:a", "96k"]);
        args.Add(path);
        await Runner.RunFfmpegAsync(args);
    }

    private Task Ffmpeg(IEnumerable<string> inputOptions, string input, IEnumerable<string> rest)
    {
        var args = new List<string>(inputOptions);
        HardenedInput.AddTo(args, input);
        args.AddRange(rest);
        return Runner.RunFfmpegAsync(args);
    }

    public Task DisposeAsync()
    {
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
        return Task.CompletedTask;
    }
}

/// <summary>
/// Tests that run ffmpeg share the clips and run one after another: on a 2-core machine parallel
/// encodes would only slow each other down and make the cancellation timing flaky.
/// </summary>
[CollectionDefinition(Name)]
public sealed class MediaCollection : ICollectionFixture<TestMedia>
{
    public const string Name = "media";
}
