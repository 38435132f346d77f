namespace Vidline.Media.Tests;

[Collection(MediaCollection.Name)]
public class QualityMeterTests(TestMedia media)
{
    [Fact]
    public async Task A_rendition_scores_high_on_encode_loss_and_lower_at_full_size()
    {
        var renditions = await media.Ladder720Async();
        var rendition480 = renditions.Single(r => r.Target.Name == "480p");
        var source = await new MediaProbe(media.Runner).ProbeAsync(media.Clip720);

        var m = await new QualityMeter(media.Runner, new LadderOptions()).MeasureAsync(rendition480, media.Clip720, source, fullSize: true);

        Assert.InRange(m.EncodeLoss.Ssim, 0.9, 1.0);
        Assert.InRange(m.EncodeLoss.Psnr, 30, 99);
        Assert.True(m.FullSize!.Psnr < m.EncodeLoss.Psnr, $"full size {m.FullSize.Psnr} vs encode loss {m.EncodeLoss.Psnr}");
        Assert.Null(m.EncodeLoss.Vmaf);   // Debian's ffmpeg has no libvmaf
        Assert.Equal((854, 480, 90L, true), (m.Structure.Width, m.Structure.Height, m.Structure.FrameCount, m.Structure.HasAudio));
        Assert.Empty(m.RenditionFreezes);
        Assert.Empty(m.RenditionBlack);
        Assert.True(m.EncodeErrors.WorstSecond()!.Value.Psnr > 30);
        Assert.Equal(90, m.EncodeErrors.MeanSquaredErrors.Count);
    }

    [Fact]
    public async Task Full_size_figures_are_measured_only_when_asked_for_and_change_nothing_the_gate_judges()
    {
        var rendition480 = (await media.Ladder720Async()).Single(r => r.Target.Name == "480p");
        var source = await new MediaProbe(media.Runner).ProbeAsync(media.Clip720);
        var meter = new QualityMeter(media.Runner, new LadderOptions());

        var without = await meter.MeasureAsync(rendition480, media.Clip720, source);
        var with = await meter.MeasureAsync(rendition480, media.Clip720, source, fullSize: true);

        Assert.Null(without.FullSize);
        Assert.NotNull(with.FullSize);
        Assert.Equal(with.Structure, without.Structure);
        Assert.Equal(with.EncodeLoss, without.EncodeLoss);
        Assert.Equal(with.EncodeErrors.MeanSquaredErrors, without.EncodeErrors.MeanSquaredErrors);
        Assert.Equal(with.RenditionFreezes, without.RenditionFreezes);
        Assert.Equal(with.SourceBlack, without.SourceBlack);
    }

    [Fact]
    public async Task An_identical_file_scores_perfectly()
    {
        var source = await new MediaProbe(media.Runner).ProbeAsync(media.Clip360);

        var m = await new QualityMeter(media.Runner, new LadderOptions()).MeasureAsync(new RenditionFile(media.Clip360, new RenditionTarget("360p", 640, 360, 800, 96), HasAudio: true), media.Clip360, source,
            fullSize: true);

        Assert.Equal(1.0, m.EncodeLoss.Ssim, 4);
        Assert.Equal(QualityMeter.IdenticalPsnr, m.EncodeLoss.Psnr);
        Assert.Equal(QualityMeter.IdenticalPsnr, m.FullSize!.Psnr);
    }

    [Fact]
    public async Task Scoring_reports_how_far_through_the_source_it_is()
    {
        var source = await new MediaProbe(media.Runner).ProbeAsync(media.Clip360);
        var seen = new List<double>();

        await new QualityMeter(media.Runner, new LadderOptions()).MeasureAsync(new RenditionFile(media.Clip360, new RenditionTarget("360p", 640, 360, 800, 96), HasAudio: true), media.Clip360, source,
            onProgress: seen.Add);

        Assert.NotEmpty(seen);
        Assert.Equal(seen.Order(), seen);
        Assert.InRange(seen[^1], 90, 100);
    }

    [Fact]
    public async Task One_pass_over_the_ladder_measures_each_rendition_as_a_pass_of_its_own_would()
    {
        var renditions = await media.Ladder720Async();
        var source = await new MediaProbe(media.Runner).ProbeAsync(media.Clip720);
        var meter = new QualityMeter(media.Runner, new LadderOptions());
        var gate = new Vidline.Validator.QualityGate(new Vidline.Validator.QualityGateOptions());
        var seen = new List<double>();

        var together = await meter.MeasureAllAsync(renditions, media.Clip720, source, onProgress: seen.Add, fullSize: true);

        Assert.Equal(renditions, together.Select(r => r.Rendition));
        foreach (var (rendition, reading) in renditions.Zip(together))
        {
            Assert.Null(reading.Unreadable);
            var alone = await meter.MeasureAsync(rendition, media.Clip720, source, fullSize: true);
            var m = reading.Measurement!;
            Assert.Equal(alone.Structure, m.Structure);
            Assert.Equal(alone.EncodeLoss, m.EncodeLoss);
            Assert.Equal(alone.FullSize, m.FullSize);
            Assert.Equal(alone.EncodeErrors.MeanSquaredErrors, m.EncodeErrors.MeanSquaredErrors);
            Assert.Equal(90, m.EncodeErrors.MeanSquaredErrors.Count);
            Assert.Empty(m.RenditionFreezes);
            Assert.Empty(m.SourceBlack);
            var (judgedAlone, judgedTogether) = (gate.Judge(rendition.Target, source, alone), gate.Judge(rendition.Target, source, m));
            Assert.True(judgedTogether.Passed, string.Join("; ", judgedTogether.Problems ?? []));
            Assert.Equal(judgedAlone.Problems, judgedTogether.Problems);
        }
        // The lower rungs give up resolution; the rung at the source's size is its own full-size comparison.
        Assert.True(together[2].Measurement!.FullSize!.Psnr < together[2].Measurement!.EncodeLoss.Psnr);
        Assert.Equal(together[0].Measurement!.EncodeLoss with { Vmaf = null }, together[0].Measurement!.FullSize);
        Assert.Equal(seen.Order(), seen);
        Assert.InRange(seen[^1], 90, 100);
    }

    [Fact]
    public async Task The_frame_count_of_a_container_without_one_is_counted()
    {
        var mkv = media.In("picture-only.mkv");
        var args = new List<string>();
        HardenedInput.AddTo(args, media.Clip360);
        args.AddRange(["-map", "0:v", "-c", "copy", mkv]);
        await media.Runner.RunFfmpegAsync(args);

        var structure = await new QualityMeter(media.Runner, new LadderOptions()).ReadStructureAsync(mkv);

        Assert.Equal((640, 360, 90L, false), (structure.Width, structure.Height, structure.FrameCount, structure.HasAudio));
        Assert.InRange(structure.DurationSeconds, 2.9, 3.1);
    }

    [Fact]
    public async Task Reading_a_ladder_takes_one_ffprobe_per_rendition_and_one_for_the_sound_they_share()
    {
        var renditions = await media.Ladder720Async();
        var source = await new MediaProbe(media.Runner).ProbeAsync(media.Clip720);
        // An ffprobe that notes each run, then is the real one.
        var log = media.In("ffprobe-runs.log");
        var counting = media.In("counting-ffprobe.sh");
        await File.WriteAllTextAsync(counting, $"#!/bin/sh\necho \"$*\" >> '{log}'\nexec ffprobe \"$@\"\n");
        File.SetUnixFileMode(counting, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var meter = new QualityMeter(new FfmpegRunner(new MediaOptions { FfprobePath = counting }), new LadderOptions());

        var readings = await meter.MeasureAllAsync(renditions, media.Clip720, source);

        // Fragmented renditions state no frame count: it is counted, in the same run.
        Assert.All(readings, r => Assert.Equal((90L, true), (r.Measurement!.Structure.FrameCount, r.Measurement.Structure.HasAudio)));
        var runs = await File.ReadAllLinesAsync(log);
        Assert.Equal(renditions.Count + 1, runs.Length);
        Assert.Single(runs, run => run.Contains(renditions[0].AudioPath!));
        Assert.All(renditions, r => Assert.Single(runs, run => run.Contains(r.Path)));
    }

    [Fact]
    public async Task Detects_that_this_ffmpeg_lacks_libvmaf() =>
        Assert.False(await new QualityMeter(media.Runner, new LadderOptions()).HasVmafAsync());
}
