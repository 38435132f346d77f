using Vidline.Contracts;
using Vidline.Media;
using Vidline.Media.Storage;

namespace Vidline.Validator;

/// <summary>Measures one stored rendition against its source and has the gate judge it.</summary>
public sealed class RenditionInspector(QualityMeter meter, QualityGate gate, IMediaStore store)
{
    /// <param name="onProgress">Percent of the source compared so far.</param>
    public async Task<QualityScore> InspectAsync(Rendition rendition, string sourceKey, MediaInfo source,
        Action<double> onProgress, CancellationToken cancellationToken)
    {
        var target = RenditionFile.TargetOf(rendition);
        RenditionMeasurement measurement;
        try
        {
            measurement = await meter.MeasureAsync(store.PathFor(rendition.Key), store.PathFor(sourceKey), source, target,
                cancellationToken, onProgress);
        }
        catch (FfmpegException e) when (!cancellationToken.IsCancellationRequested && e.ExitCode != -1 && !e.KilledFromOutside && !e.DiskFull)
        {
            // ffmpeg that cannot read the rendition is the gate's finding, not a crash of the stage (but the OOM
            // killer or a full disk is the machine's fault: the stage fails as transient).
            return gate.Unreadable(rendition.Name, e.Summary);
        }
        return gate.Judge(target, source, measurement);
    }
}
