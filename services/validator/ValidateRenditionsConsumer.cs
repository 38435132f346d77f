using Vidline.Contracts;
using Vidline.Media;
using Vidline.StageWorker;

namespace Vidline.Validator;

/// <summary>Scores every rendition against the source (in parallel) and fails the job if one falls short.</summary>
public sealed class ValidateRenditionsConsumer(StageRuntime runtime, QualityMeter meter, QualityGate gate,
    QualityGateOptions options, RenditionInspector inspector) : StageConsumer<ValidateRenditions>(runtime)
{
    protected override async Task<IStageCompleted> WorkAsync(ValidateRenditions command, StageProgress progress, CancellationToken cancellationToken)
    {
        var metrics = await meter.HasVmafAsync(cancellationToken) ? "SSIM, PSNR and VMAF" : "SSIM and PSNR (ffmpeg has no libvmaf)";
        await progress.ReportAsync(0, $"scoring {command.Renditions.Count} renditions with {metrics}", force: true, cancellationToken: cancellationToken);

        var scores = new QualityScore[command.Renditions.Count];
        // Each rendition's comparison reports how far through the source it is; the stage is their average.
        var percents = new double[command.Renditions.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, scores.Length),
            new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.Parallelism), CancellationToken = cancellationToken },
            async (i, token) =>
            {
                var rendition = command.Renditions[i];
                scores[i] = await inspector.InspectAsync(rendition, command.SourceKey, command.Source, percent =>
                    {
                        Volatile.Write(ref percents[i], percent);
                        _ = progress.ReportAsync(percents.Average(), $"scoring {rendition.Name}: {percent:0}%", cancellationToken: token);
                    }, token);
                Volatile.Write(ref percents[i], 100);
                await progress.ReportAsync(percents.Average(),
                    $"{rendition.Name}: SSIM {scores[i].Ssim:0.####}, PSNR {scores[i].Psnr:0.##} dB" +
                    (scores[i].Vmaf is { } vmaf ? $", VMAF {vmaf:0.##}" : ""), force: true, cancellationToken: token);
            });

        if (scores.FirstOrDefault(s => !s.Passed) is { } failed)
            throw new PermanentStageFailure(gate.Explain(failed));
        return new RenditionsValidated(command.JobId, command.Attempt, scores);
    }

    protected override double MediaSeconds(ValidateRenditions command) => command.Source.DurationSeconds;
}
