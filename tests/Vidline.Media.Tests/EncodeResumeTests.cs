using Vidline.Contracts;

namespace Vidline.Media.Tests;

[Collection(MediaCollection.Name)]
public class EncodeResumeTests(TestMedia media)
{
    [Fact]
    public async Task An_interrupted_encode_goes_on_after_the_last_segment_complete_in_every_track()
    {
        var source = await media.Long480Async();
        var info = await new MediaProbe(media.Runner).ProbeAsync(source);
        var options = new LadderOptions();
        var rungs = new RenditionLadder(options).For(info);
        var dir = media.NewWorkDirectory("resume");
        var folders = rungs.Select(r => Path.Combine(dir, r.Name)).Append(Path.Combine(dir, "audio")).ToList();

        // The first encode is stopped once every track holds at least three complete segments.
        await InterruptAsync(source, info, options, rungs, dir, atLeast: 3);
        var kept = folders.Min(SegmentedTrack.CompleteSegments);
        Assert.InRange(kept, 3, 14); // stopped part-way through the fifteen
        var firstSegment = Path.Combine(folders[0], SegmentedTrack.SegmentName(1));
        var firstWritten = File.GetLastWriteTimeUtc(firstSegment);
        var firstBytes = await File.ReadAllBytesAsync(firstSegment);

        EncodeResume? resumed = null;
        double? resumedAt = null;
        var percents = new List<double>();
        var outputs = await new LadderTranscoder(media.Runner, options).TranscodeAsync(source, info, rungs, dir,
            (_, percent) => percents.Add(percent), onResume: (resume, percent) => (resumed, resumedAt) = (resume, percent));

        // It went on from where every track had got to, and said so: progress starts there, not at zero.
        Assert.NotNull(resumed);
        Assert.Equal(kept, resumed.Segments);
        Assert.Equal(kept * options.KeyframeIntervalSeconds, resumed.VideoSeconds);
        Assert.Equal(100.0 * resumed.VideoSeconds / info.DurationSeconds, resumedAt!.Value, 3);
        Assert.All(percents, p => Assert.True(p >= resumedAt.Value, $"progress {p} below the resume point {resumedAt}"));
        Assert.Equal(percents.Order(), percents);
        Assert.Equal(100, percents[^1]);
        // The segments made before the interruption were not made again.
        Assert.Equal(firstWritten, File.GetLastWriteTimeUtc(firstSegment));
        Assert.Equal(firstBytes, await File.ReadAllBytesAsync(firstSegment));

        // Every track is one continuous timeline (Read checks each segment starts where the one before ended)
        // and the rungs still line up.
        var tracks = folders.Select(SegmentedTrack.Read).ToList();
        SegmentedTrack.CheckAligned(tracks.Take(rungs.Count).ToList());
        Assert.All(tracks.Take(rungs.Count), t => Assert.Equal(15, t.Segments.Count));
        Assert.InRange(tracks[^1].EndSeconds - tracks[^1].StartSeconds, 29.9, 30.1);

        foreach (var output in outputs)
        {
            // The whole rung decodes as one picture stream: every frame once, in order, keyframes on the segment grid.
            var frames = await DecodedFrames.ReadAsync(media.Runner, output.Path);
            Assert.Equal(900, frames.Count); // 30 s at 30 fps, no frame lost or repeated at the resume point
            Assert.All(frames.Zip(frames.Skip(1)), pair => Assert.InRange(pair.Second.Time - pair.First.Time, 0.03, 0.0367));
            Assert.Equal(Enumerable.Range(0, 15).Select(n => 2.0 * n),
                frames.Where(f => f.Key).Select(f => Math.Round(f.Time - frames[0].Time, 3)));
        }
    }

    [Fact]
    public async Task Segments_of_another_encode_are_not_gone_on_from()
    {
        var info = await new MediaProbe(media.Runner).ProbeAsync(media.Clip360);
        var dir = media.NewWorkDirectory("other-encode");
        var rungs = new RenditionLadder(new LadderOptions()).For(info);
        await new LadderTranscoder(media.Runner, new LadderOptions()).TranscodeAsync(media.Clip360, info, rungs, dir);
        var before = File.GetLastWriteTimeUtc(Path.Combine(dir, rungs[0].Name, SegmentedTrack.SegmentName(1)));

        // Other encoder settings: the earlier segments cannot be mixed with the new ones.
        EncodeResume? resumed = null;
        var slower = new LadderOptions { Preset = "faster" };
        await new LadderTranscoder(media.Runner, slower).TranscodeAsync(media.Clip360, info, rungs, dir,
            onResume: (resume, _) => resumed = resume);

        Assert.Null(resumed);
        Assert.NotEqual(before, File.GetLastWriteTimeUtc(Path.Combine(dir, rungs[0].Name, SegmentedTrack.SegmentName(1))));
        SegmentedTrack.Read(Path.Combine(dir, rungs[0].Name));
    }
    [Fact]
    public async Task A_stale_encoder_still_writing_in_the_earlier_folder_cannot_touch_the_new_attempts_segments()
    {
        var source = await media.Long480Async();
        var info = await new MediaProbe(media.Runner).ProbeAsync(source);
        var options = new LadderOptions();
        var rungs = new RenditionLadder(options).For(info);
        var work = media.NewWorkDirectory("stale");
        var (earlier, fresh) = (Path.Combine(work, "attempt-1.partial"), Path.Combine(work, "attempt-2.partial"));
        var tracks = rungs.Select(r => r.Name).Append(LadderFolder.AudioTrack).ToList();
        await InterruptAsync(source, info, options, rungs, earlier, atLeast: 2);
        var kept = tracks.Min(t => SegmentedTrack.CompleteSegments(Path.Combine(earlier, t)));

        // The stale encoder is half-way through the next segment of a rung, under its temporary name.
        var inFlight = Path.Combine(earlier, rungs[0].Name, SegmentedTrack.SegmentName(kept + 1) + ".tmp");
        await using var stale = new FileStream(inFlight, FileMode.Create, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
        LadderFolder.CarryOver(earlier, fresh);
        Directory.Delete(earlier, recursive: true);

        // Whatever it writes through its open file reaches nothing the new attempt has.
        var marker = "written by the stale encoder"u8.ToArray();
        await stale.WriteAsync(marker);
        await stale.FlushAsync();
        foreach (var file in Directory.EnumerateFiles(fresh, "*", SearchOption.AllDirectories))
            Assert.False(Contains(await File.ReadAllBytesAsync(file), marker), $"{file} shares the stale encoder's open file");

        // The new attempt goes on from the carried-over segments.
        EncodeResume? resumed = null;
        await new LadderTranscoder(media.Runner, options).TranscodeAsync(source, info, rungs, fresh,
            onResume: (resume, _) => resumed = resume);
        Assert.Equal(kept, resumed?.Segments);
        Assert.All(rungs, r => Assert.Equal(15, SegmentedTrack.Read(Path.Combine(fresh, r.Name)).Segments.Count));
    }

    [Fact]
    public async Task Segments_whose_init_describes_another_stream_are_encoded_again_not_published()
    {
        var source = await media.Long480Async();
        var info = await new MediaProbe(media.Runner).ProbeAsync(source);
        var options = new LadderOptions();
        var rungs = new RenditionLadder(options).For(info);
        var dir = media.NewWorkDirectory("mismatch");
        await InterruptAsync(source, info, options, rungs, dir, atLeast: 2);
        // The earlier init segment says another picture width: same clock, same codec string, another sample description.
        var init = Path.Combine(dir, rungs[0].Name, SegmentedTrack.InitName);
        var bytes = await File.ReadAllBytesAsync(init);
        var entry = bytes.AsSpan().IndexOf("avc1"u8) - 4;
        var width = entry + 8 + 24;
        (bytes[width], bytes[width + 1]) = ((byte)((rungs[0].Width + 16) >> 8), (byte)(rungs[0].Width + 16));
        await File.WriteAllBytesAsync(init, bytes);
        var earlier = Fmp4Boxes.ReadInit(init);
        var firstSegment = Path.Combine(dir, rungs[0].Name, SegmentedTrack.SegmentName(1));
        var firstWritten = File.GetLastWriteTimeUtc(firstSegment);

        EncodeResume? resumed = null;
        var outputs = await new LadderTranscoder(media.Runner, options).TranscodeAsync(source, info, rungs, dir,
            onResume: (resume, _) => resumed = resume);

        // It tried to go on, found the streams differ, and encoded everything again.
        Assert.NotNull(resumed);
        var now = Fmp4Boxes.ReadInit(init);
        Assert.Equal((earlier.Timescale, earlier.Codecs), (now.Timescale, now.Codecs));
        Assert.NotEqual(earlier.SampleDescription, now.SampleDescription);
        Assert.NotEqual(firstWritten, File.GetLastWriteTimeUtc(firstSegment));
        var frames = await DecodedFrames.ReadAsync(media.Runner, outputs[0].Path);
        Assert.Equal(900, frames.Count);
    }

    [Theory]
    [InlineData("24000/1001")]
    public async Task A_source_whose_frames_miss_the_segment_grid_resumes_on_one_timeline(string rate)
    {
        // Frames at 23.976 per second: segments end on the first frame after a multiple of the keyframe interval.
        var source = media.In($"off-grid-{rate.Replace('/', '-')}.mp4");
        var args = new List<string> { "-f", "lavfi" };
        HardenedInput.AddTo(args, $"testsrc2=size=640x360:rate={rate}:duration=20");
        args.AddRange(["-f", "lavfi"]);
        HardenedInput.AddTo(args, "sine=frequency=440:sample_rate=44100:duration=20");
        args.AddRange(["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", source]);
        await media.Runner.RunFfmpegAsync(args);
        var info = await new MediaProbe(media.Runner).ProbeAsync(source);
        var options = new LadderOptions();
        var rungs = new RenditionLadder(options).For(info);
        var dir = media.NewWorkDirectory("off-grid");
        var tracks = rungs.Select(r => Path.Combine(dir, r.Name)).Append(Path.Combine(dir, LadderFolder.AudioTrack)).ToList();
        await InterruptAsync(source, info, options, rungs, dir, atLeast: 3);

        EncodeResume? resumed = null;
        await new LadderTranscoder(media.Runner, options).TranscodeAsync(source, info, rungs, dir, onResume: (resume, _) => resumed = resume);

        Assert.NotNull(resumed);
        // Read checks every segment starts where the one before ended; the rungs still line up.
        SegmentedTrack.CheckAligned(tracks.Take(rungs.Count).Select(SegmentedTrack.Read).ToList());
        SegmentedTrack.Read(tracks[^1]);
    }

    /// <summary>Starts an encode into <paramref name="dir"/> and stops it once every track holds <paramref name="atLeast"/> complete segments.</summary>
    private async Task InterruptAsync(string source, MediaInfo info, LadderOptions options, IReadOnlyList<RenditionTarget> rungs, string dir, int atLeast)
    {
        var tracks = rungs.Select(r => r.Name).Append(LadderFolder.AudioTrack).Select(t => Path.Combine(dir, t)).ToList();
        using var stop = new CancellationTokenSource();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new LadderTranscoder(media.Runner, options).TranscodeAsync(
            source, info, rungs, dir, (_, _) =>
            {
                if (tracks.All(t => SegmentedTrack.CompleteSegments(t) >= atLeast)) stop.Cancel();
            }, stop.Token));
    }

    private static bool Contains(byte[] bytes, byte[] part) => bytes.AsSpan().IndexOf(part) >= 0;
}
