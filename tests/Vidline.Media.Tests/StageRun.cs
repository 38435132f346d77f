using System.Globalization;
using System.Text;
using System.Text.Json;
using Vidline.Contracts;
using Vidline.Validator;

namespace Vidline.Media.Tests;

/// <summary>A stream of a packaged output as ffprobe reads it back.</summary>
public sealed record StreamFacts(string Type, int Width, int Height, string? SampleAspect, string? FrameRate, string? PixelFormat,
    string? FieldOrder, string? ColorTransfer, int Channels)
{
    public string Size => $"{Width}x{Height}";

    /// <summary>Width over height as shown, sample aspect applied (unset means square).</summary>
    public double DisplayAspect => (double)Width / Height * (Vidline.Media.DisplayAspect.Parse(SampleAspect)?.Value ?? 1);

    public double FramesPerSecond => MediaProbe.Fraction(FrameRate) ?? 0;
}

/// <summary>What one source became on its way through the stages.</summary>
public sealed record StageOutcome(MediaInfo Source, IReadOnlyList<string> Warnings, IReadOnlyList<RenditionFile> Renditions,
    IReadOnlyList<QualityScore> Scores, IReadOnlyList<IReadOnlyList<StreamFacts>> HlsVariants, IReadOnlyList<StreamFacts> Dash)
{
    public IEnumerable<StreamFacts> HlsVideo => HlsVariants.SelectMany(v => v.Where(s => s.Type == "video"));
    public IEnumerable<StreamFacts> DashVideo => Dash.Where(s => s.Type == "video");
    public IEnumerable<StreamFacts> AllAudio => HlsVariants.SelectMany(v => v).Concat(Dash).Where(s => s.Type == "audio");
}

/// <summary>
/// Runs a source through the code the stages run, in their order: probe (ingest-api), ladder and one-process
/// transcode (transcoder), measurement and gate (validator), HLS + DASH packaging (packager); then reads every
/// HLS variant and the DASH manifest back with ffprobe.
/// </summary>
public sealed class StageRun(TestMedia media)
{
    public async Task<StageOutcome> RunAsync(string sourcePath, LadderOptions? ladder = null, QualityGateOptions? gateOptions = null)
    {
        ladder ??= new LadderOptions();
        var source = await new MediaProbe(media.Runner).ProbeAsync(sourcePath);
        var transcoder = new LadderTranscoder(media.Runner, ladder);
        var warnings = await transcoder.WarningsAsync(source);
        var work = media.NewWorkDirectory(Path.GetFileNameWithoutExtension(sourcePath));
        var renditions = await transcoder.TranscodeAsync(sourcePath, source, new RenditionLadder(ladder).For(source), Path.Combine(work, "renditions"));

        var meter = new QualityMeter(media.Runner, ladder);
        var gate = new QualityGate(gateOptions ?? new QualityGateOptions());
        var scores = (await meter.MeasureAllAsync(renditions, sourcePath, source, fullSize: gate.ReportsFullSize))
            .Select(r => gate.Judge(r.Rendition.Target, source, r.Measurement ?? throw r.Unreadable!)).ToList();

        var packageDirectory = Path.Combine(work, "package");
        var package = await new AbrPackager().PackageAsync(renditions, packageDirectory);
        var master = HlsMasterPlaylist.Parse(await File.ReadAllTextAsync(Path.Combine(packageDirectory, package.HlsMaster)));
        var hls = new List<IReadOnlyList<StreamFacts>>();
        foreach (var variant in master.Variants) hls.Add(await StreamsAsync(Path.Combine(packageDirectory, variant.Uri)));
        // Absolute path: ffprobe resolves a relative .mpd's segments against the wrong directory.
        var dash = await StreamsAsync(Path.GetFullPath(Path.Combine(packageDirectory, package.DashManifest)));
        return new StageOutcome(source, warnings, renditions, scores, hls, dash);
    }

    public async Task<IReadOnlyList<StreamFacts>> StreamsAsync(string path)
    {
        var args = new List<string> { "-v", "error", "-print_format", "json", "-show_entries",
            "stream=index,codec_type,width,height,sample_aspect_ratio,r_frame_rate,pix_fmt,field_order,color_transfer,channels" };
        HardenedInput.AddTo(args, path);
        var json = new StringBuilder();
        await media.Runner.RunFfprobeAsync(args, line => json.AppendLine(line));
        using var doc = JsonDocument.Parse(json.ToString());
        return doc.RootElement.GetProperty("streams").EnumerateArray()
            .DistinctBy(s => s.GetProperty("index").GetInt32())
            .Select(s => new StreamFacts(Text(s, "codec_type") ?? "", Int(s, "width"), Int(s, "height"), Text(s, "sample_aspect_ratio"),
                Text(s, "r_frame_rate"), Text(s, "pix_fmt"), Text(s, "field_order"), Text(s, "color_transfer"), Int(s, "channels")))
            .ToList();
    }

    private static string? Text(JsonElement e, string name) => e.TryGetProperty(name, out var p) ? p.ToString() : null;

    private static int Int(JsonElement e, string name) =>
        int.TryParse(Text(e, name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? i : 0;
}
