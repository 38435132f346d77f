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
        var readings = await meter.MeasureAllAsync(files, sourcePath, source, cancellationToken, onProgress, gate.ReportsFullSize);
        // A rendition ffmpeg cannot read is the gate's finding, not a crash of the stage (FailureVerdict hides the
        // server's folders ffmpeg names).
        return readings.Select(r => r.Unreadable is { } e
            ? gate.Unreadable(r.Rendition.Target.Name, e.Summary)
            : gate.Judge(r.Rendition.Target, source, r.Measurement!)).ToList();
    }
}
