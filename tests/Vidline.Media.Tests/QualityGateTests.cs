using Microsoft.Extensions.Options;
using Vidline.Contracts;
using Vidline.Media.Storage;
using Vidline.StageWorker;
using Vidline.Validator;

namespace Vidline.Media.Tests;

/// <summary>
/// The gate against renditions broken on purpose, each made from the 360p test clip with one defect a viewer would
/// notice; a faithful copy made the same way is the control that passes.
/// </summary>
[Collection(MediaCollection.Name)]
public class QualityGateTests(TestMedia media)
{
    private static readonly RenditionTarget Rung = new("360p", 640, 360, 800, 96);
    private readonly QualityGate _gate = new(new QualityGateOptions());

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_faithful_rendition_passes_on_encode_loss_with_full_size_scores_only_where_the_gate_reports_them(bool fullSizeScores)
    {
        var path = await EncodeAsync($"gate-faithful-{fullSizeScores}.mp4", media.Clip360, []);
        var store = new FileSystemMediaStore(Options.Create(new StorageOptions { Root = media.Directory }));
        var gate = new QualityGate(new QualityGateOptions { FullSizeScores = fullSizeScores });
        var inspector = new RenditionInspector(new QualityMeter(media.Runner, new LadderOptions()), gate, store);

        var score = Assert.Single(await inspector.InspectAsync([Rung.ToRendition(Path.GetFileName(path))], Path.GetFileName(media.Clip360),
            await SourceAsync(), _ => { }, CancellationToken.None));

        Assert.True(score.Passed, string.Join("; ", score.Problems ?? []));
        Assert.InRange(score.Psnr, 30, 100);
        Assert.Equal(fullSizeScores, score.FullSizeSsim is not null);
        Assert.Equal(fullSizeScores, score.FullSizePsnr is not null);
    }

    [Theory]
    [InlineData("frozen", "picture is frozen at 1.0", "-vf", "split[a][b];[a][b]freezeframes=first=30:last=60:replace=30")]
    [InlineData("black", "picture is black at 1.0", "-vf", "drawbox=color=black:t=fill:enable='between(t,1,2)'")]
    [InlineData("green", "picture is garbled at", "-vf", "lutyuv=y=0:u=0:v=0:enable='between(t,1,2)'")]
    [InlineData("silent", "has no audio although the source has", "-an")]
    [InlineData("short", "lasts 2 s where the source lasts 3 s", "-t", "2")]
    [InlineData("blurred", "PSNR", "-vf", "gblur=sigma=12")]
    public async Task A_broken_rendition_fails_the_gate_saying_what_is_wrong(string defect, string expected, params string[] options)
    {
        var score = await JudgeAsync(defect, options);

        Assert.False(score.Passed);
        Assert.Contains(score.Problems!, p => p.Contains(expected));
        Assert.Contains(expected, _gate.Explain(score));
    }

    [Fact]
    public async Task Audio_half_a_second_late_is_out_of_sync()
    {
        var path = media.In("gate-late-audio.mp4");
        var args = new List<string>();
        HardenedInput.AddTo(args, media.Clip360);
        args.AddRange(["-itsoffset", "0.5"]);
        HardenedInput.AddTo(args, media.Clip360);
        args.AddRange(["-map", "0:v", "-map", "1:a", "-c", "copy", "-t", "3", path]);
        await media.Runner.RunFfmpegAsync(args);

        var score = _gate.Judge(Rung, await SourceAsync(), await new QualityMeter(media.Runner, new LadderOptions()).MeasureAsync(new RenditionFile(path, Rung, HasAudio: true), media.Clip360, await SourceAsync()));

        Assert.Contains(score.Problems!, p => p.Contains("out of sync"));
    }

    [Fact]
    public async Task A_rendition_ffmpeg_cannot_read_fails_as_undecodable()
    {
        var key = "gate-garbage.mp4";
        await File.WriteAllBytesAsync(media.In(key), Enumerable.Range(0, 50_000).Select(i => (byte)(i * 7919 % 251)).ToArray());
        var store = new FileSystemMediaStore(Options.Create(new StorageOptions { Root = media.Directory }));
        var inspector = new RenditionInspector(new QualityMeter(media.Runner, new LadderOptions()), _gate, store);

        var score = Assert.Single(await inspector.InspectAsync([Rung.ToRendition(key)], Path.GetFileName(media.Clip360), await SourceAsync(),
            _ => { }, CancellationToken.None));

        Assert.False(score.Passed);
        Assert.StartsWith("could not be decoded", Assert.Single(score.Problems!));
    }

    [Fact]
    public async Task In_one_pass_for_the_whole_ladder_each_broken_rendition_is_named_and_the_faithful_one_passes()
    {
        var ladder = await media.Ladder720Async();
        var source = await new MediaProbe(media.Runner).ProbeAsync(media.Clip720);
        var blurred = ladder.Single(r => r.Target.Name == "480p");
        var frozen = ladder.Single(r => r.Target.Name == "360p");
        RenditionFile[] renditions =
        [
            ladder.Single(r => r.Target.Name == "720p"),
            blurred with { Path = await EncodeAsync("ladder-blurred-480p.mp4", blurred.Path, ["-vf", "gblur=sigma=12"]) },
            frozen with { Path = await EncodeAsync("ladder-frozen-360p.mp4", frozen.Path,
                ["-vf", "split[a][b];[a][b]freezeframes=first=30:last=60:replace=30"]) },
        ];

        var readings = await new QualityMeter(media.Runner, new LadderOptions()).MeasureAllAsync(renditions, media.Clip720, source);
        var scores = readings.Select(r => _gate.Judge(r.Rendition.Target, source, r.Measurement!)).ToList();

        Assert.Equal(["720p", "480p", "360p"], scores.Select(s => s.Rendition));
        Assert.True(scores[0].Passed, string.Join("; ", scores[0].Problems ?? []));
        Assert.False(scores[1].Passed);
        Assert.Contains(scores[1].Problems!, p => p.StartsWith("PSNR"));
        Assert.DoesNotContain(scores[1].Problems!, p => p.Contains("frozen"));
        Assert.False(scores[2].Passed);
        Assert.Contains(scores[2].Problems!, p => p.Contains("picture is frozen at 1.0"));
        Assert.Contains("rendition 480p failed the quality gate: ", _gate.Explain(scores[1]));
    }

    [Fact]
    public async Task Renditions_ffprobe_or_the_pass_cannot_read_fail_by_name_and_the_others_are_still_measured()
    {
        var ladder = await media.Ladder720Async();
        var source = await new MediaProbe(media.Runner).ProbeAsync(media.Clip720);
        var garbage = "gate-ladder-garbage.mp4";
        await File.WriteAllBytesAsync(media.In(garbage), Enumerable.Range(0, 50_000).Select(i => (byte)(i * 7919 % 251)).ToArray());
        var store = new FileSystemMediaStore(Options.Create(new StorageOptions { Root = media.Directory }));
        string KeyOf(string rung) => Path.GetRelativePath(media.Directory, ladder.Single(r => r.Target.Name == rung).Path);
        var rung360 = ladder.Single(r => r.Target.Name == "360p").Target;
        // Every rung's sound is the ladder's one shared track.
        var sound = Path.GetRelativePath(media.Directory, ladder[0].AudioPath!);
        Rendition[] renditions =
        [
            ladder.Single(r => r.Target.Name == "720p").Target.ToRendition(KeyOf("720p")) with { AudioKey = sound },
            ladder.Single(r => r.Target.Name == "480p").Target.ToRendition(garbage) with { AudioKey = sound },
            // ffprobe reads it, but its picture is 854x480: the comparison at 640x360 refuses it, which ends the pass.
            rung360.ToRendition(KeyOf("480p")) with { AudioKey = sound },
        ];
        var inspector = new RenditionInspector(new QualityMeter(media.Runner, new LadderOptions()), _gate, store);

        var seen = new List<double>();

        var scores = await inspector.InspectAsync(renditions, Path.GetFileName(media.Clip720), source, seen.Add, CancellationToken.None);

        Assert.Equal(["720p", "480p", "360p"], scores.Select(s => s.Rendition));
        Assert.True(scores[0].Passed, string.Join("; ", scores[0].Problems ?? []));
        Assert.InRange(scores[0].Psnr, 30, 100);
        Assert.StartsWith("could not be decoded", Assert.Single(scores[1].Problems!));
        Assert.StartsWith("could not be decoded", Assert.Single(scores[2].Problems!));
        // The job's error (what the failed gate becomes) names no server folder.
        Assert.DoesNotContain(media.Directory, string.Concat(scores.Skip(1).Select(s => FailureVerdict.Of(new PermanentStageFailure(_gate.Explain(s)))!.Reason)));
        // The failed pass is followed by one per rendition; progress still only moves forward, to the end.
        Assert.Equal(seen.Order(), seen);
        Assert.Equal(100, seen[^1]);
    }

    [Fact]
    public async Task Sound_in_a_file_of_its_own_is_judged_from_that_file()
    {
        var picture = media.In("gate-picture-only.mp4");
        var sound = media.In("gate-sound.m4a");
        var shortSound = media.In("gate-sound-short.m4a");
        await CopyAsync(["-map", "0:v", "-c", "copy", picture]);
        await CopyAsync(["-map", "0:a", "-c", "copy", sound]);
        await CopyAsync(["-map", "0:a", "-c", "copy", "-t", "2", shortSound]);
        var meter = new QualityMeter(media.Runner, new LadderOptions());
        var source = await SourceAsync();

        var whole = _gate.Judge(Rung, source, await meter.MeasureAsync(new RenditionFile(picture, Rung, true, sound), media.Clip360, source));
        var cut = _gate.Judge(Rung, source, await meter.MeasureAsync(new RenditionFile(picture, Rung, true, shortSound), media.Clip360, source));
        var none = _gate.Judge(Rung, source, await meter.MeasureAsync(new RenditionFile(picture, Rung, true), media.Clip360, source));

        Assert.True(whole.Passed, string.Join("; ", whole.Problems ?? []));
        Assert.Contains(cut.Problems!, p => p.StartsWith("audio ends 1"));
        Assert.Contains(none.Problems!, p => p == "has no audio although the source has");
    }

    [Fact]
    public async Task A_rendition_naming_a_missing_segment_fails_the_job_with_an_error_naming_no_server_folder()
    {
        var root = media.NewWorkDirectory("gate-store");
        var store = new FileSystemMediaStore(Options.Create(new StorageOptions { Root = root }));
        var jobId = Guid.NewGuid();
        Directory.CreateDirectory(Path.GetDirectoryName(store.PathFor(StorageKeys.Source(jobId)))!);
        File.Copy(media.Clip360, store.PathFor(StorageKeys.Source(jobId)));
        var source = await SourceAsync();
        var prefix = StorageKeys.Renditions(jobId) + "/attempt-1";
        var files = await new LadderTranscoder(media.Runner, new LadderOptions()).TranscodeAsync(media.Clip360, source,
            new RenditionLadder(new LadderOptions()).For(source), store.PathFor(prefix));
        string KeyOf(string path) => prefix + "/" + Path.GetRelativePath(store.PathFor(prefix), path);
        var renditions = files.Select(f => f.ToRendition(KeyOf(f.Path), f.AudioPath is { } a ? KeyOf(a) : null)).ToList();
        // The rung's playlist still names its segments, which are gone: the HLS demuxer names them by absolute path.
        foreach (var segment in Directory.EnumerateFiles(Path.GetDirectoryName(files[0].Path)!, "seg-*.m4s")) File.Delete(segment);

        var scores = await new RenditionInspector(new QualityMeter(media.Runner, new LadderOptions()), _gate, store)
            .InspectAsync(renditions, StorageKeys.Source(jobId), source, _ => { }, CancellationToken.None);
        var failed = Assert.Single(scores, s => !s.Passed);
        var verdict = FailureVerdict.Of(new PermanentStageFailure(_gate.Explain(failed)))!;

        Assert.Equal(files[0].Target.Name, failed.Rendition);
        Assert.DoesNotContain(root, verdict.Reason);
        Assert.DoesNotMatch(@"(/[^\s'/]+){2,}", verdict.Reason);
        Assert.Contains(SegmentedTrack.SegmentName(1), string.Join(" ", failed.Problems!));
    }

    private Task CopyAsync(string[] options)
    {
        var args = new List<string>();
        HardenedInput.AddTo(args, media.Clip360);
        args.AddRange(options);
        return media.Runner.RunFfmpegAsync(args);
    }

    [Fact]
    public void Thresholds_can_be_set_per_rung()
    {
        var options = new QualityGateOptions { MinPsnr = 25, Rungs = { ["360p"] = new RungThresholds { MinPsnr = 40 } } };

        Assert.Equal(40, options.MinimumsFor("360p").Psnr);
        Assert.Equal(25, options.MinimumsFor("720p").Psnr);
        Assert.Equal(0.80, options.MinimumsFor("360p").Ssim);
    }

    private Task<MediaInfo> SourceAsync() => new MediaProbe(media.Runner).ProbeAsync(media.Clip360);

    private async Task<QualityScore> JudgeAsync(string defect, string[] options)
    {
        var path = await EncodeAsync($"gate-{defect}.mp4", media.Clip360, options);
        var source = await SourceAsync();
        return _gate.Judge(Rung, source, await new QualityMeter(media.Runner, new LadderOptions()).MeasureAsync(new RenditionFile(path, Rung, HasAudio: true), media.Clip360, source));
    }

    /// <summary>A copy of <paramref name="input"/> re-encoded with <paramref name="options"/> (a defect put in on purpose).</summary>
    private async Task<string> EncodeAsync(string name, string input, string[] options)
    {
        var path = media.In(name);
        var args = new List<string>();
        HardenedInput.AddTo(args, input);
        args.AddRange(options);
        args.AddRange(["-c:v", "libx264", "-preset", "ultrafast", "-crf", "18", "-pix_fmt", "yuv420p"]);
        if (!options.Contains("-an")) args.AddRange(["-c:a", "aac"]);
        args.Add(path);
        await media.Runner.RunFfmpegAsync(args);
        return path;
    }
}
