using Vidline.Contracts;
using Vidline.Media;
using Vidline.StageWorker;

namespace Vidline.Validator;

/// <summary>Scores every rendition against the source (one ffmpeg pass for all) and fails the job if one falls short.</summary>
public sealed class ValidateRenditionsConsumer(StageRuntime runtime, QualityMeter meter, QualityGate gate,
    RenditionInspector inspector) : StageConsumer<ValidateRenditions>(runtime)
{
    protected override async Task<IStageCompleted> WorkAsync(ValidateRenditions command, StageProgress progress, CancellationToken cancellationToken)
    {
        var metrics = await meter.HasVmafAsync(cancellationToken) ? "SSIM, PSNR and VMAF" : "SSIM and PSNR (ffmpeg has no libvmaf)";
        var what = $"scoring {command.Renditions.Count} renditions with {metrics}";
        await progress.ReportAsync(0, what, force: true, cancellationToken: cancellationToken);

        var scores = await inspector.InspectAsync(command.Renditions, command.SourceKey, command.Source,
            percent => _ = progress.ReportAsync(percent, $"{what}: {percent:0}% of the source compared", cancellationToken: cancellationToken),
            cancellationToken);
        foreach (var score in scores)
            await progress.ReportAsync(100, $"{score.Rendition}: SSIM {score.Ssim:0.####}, PSNR {score.Psnr:0.##} dB" +
                (score.Vmaf is { } vmaf ? $", VMAF {vmaf:0.##}" : ""), force: true, cancellationToken: cancellationToken);

        if (scores.FirstOrDefault(s => !s.Passed) is { } failed)
            throw new PermanentStageFailure(gate.Explain(failed));
        return new RenditionsValidated(command.JobId, command.Attempt, scores.ToArray());
    }

    protected override double MediaSeconds(ValidateRenditions command) => command.Source.DurationSeconds;
}
