using Microsoft.Extensions.Options;
using Vidline.Contracts;
using Vidline.Media.Storage;
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

    [Fact]
    public async Task A_faithful_rendition_passes_with_encode_loss_and_full_size_scores()
    {
        var score = await JudgeAsync("faithful", []);

        Assert.True(score.Passed, string.Join("; ", score.Problems ?? []));
        Assert.InRange(score.Psnr, 30, 100);
        Assert.NotNull(score.FullSizePsnr);
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
        var path = media.In($"gate-{defect}.mp4");
        var args = new List<string>();
        HardenedInput.AddTo(args, media.Clip360);
        args.AddRange(options);
        args.AddRange(["-c:v", "libx264", "-preset", "ultrafast", "-crf", "18", "-pix_fmt", "yuv420p"]);
        if (!options.Contains("-an")) args.AddRange(["-c:a", "aac"]);
        args.Add(path);
        await media.Runner.RunFfmpegAsync(args);
        var source = await SourceAsync();
        return _gate.Judge(Rung, source, await new QualityMeter(media.Runner, new LadderOptions()).MeasureAsync(new RenditionFile(path, Rung, HasAudio: true), media.Clip360, source));
    }
}
