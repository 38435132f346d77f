using Vidline.Contracts;
using Vidline.Media;
using Vidline.Media.Storage;

namespace Vidline.Validator;

/// <summary>Measures a job's stored renditions against its source (one ffmpeg pass for all) and has the gate judge each.</summary>
public sealed class RenditionInspector(QualityMeter meter, QualityGate gate, IMediaStore store)
{
    /// <param name="onProgress">Percent of the source compared so far.</param>
    public async Task<IReadOnlyList<QualityScore>> InspectAsync(IReadOnlyList<Rendition> renditions, string sourceKey, MediaInfo source,
        Action<double> onProgress, CancellationToken cancellationToken)
    {
        var files = renditions.Select(r => RenditionFile.From(r, store)).ToList();
        var sourcePath = store.PathFor(sourceKey);
        var readings = await meter.MeasureAllAsync(files, sourcePath, source, cancellationToken, onProgress);
        // A rendition ffmpeg cannot read is the gate's finding, not a crash of the stage.
        return readings.Select(r => r.Unreadable is { } e
            ? gate.Unreadable(r.Rendition.Target.Name, WithoutFolders(e.Summary, r.Rendition.Path, r.Rendition.AudioPath, sourcePath))
            : gate.Judge(r.Rendition.Target, source, r.Measurement!)).ToList();
    }

    /// <summary>ffmpeg names the files it fails on; the job's error shows their names, never the server's folders.</summary>
    private static string WithoutFolders(string summary, params string?[] paths) =>
        paths.OfType<string>().Aggregate(summary, (text, path) => text.Replace(path, Path.GetFileName(path)));
}
