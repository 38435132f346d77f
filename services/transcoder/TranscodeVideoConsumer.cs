using Vidline.Contracts;
using Vidline.Media;
using Vidline.Media.Storage;
using Vidline.StageWorker;

namespace Vidline.Transcoder;

/// <summary>Encodes the source into the ABR ladder in one ffmpeg process, reporting frame-level progress.</summary>
public sealed class TranscodeVideoConsumer(StageRuntime runtime, RenditionLadder ladder, LadderTranscoder transcoder, IMediaStore store)
    : StageConsumer<TranscodeVideo>(runtime)
{
    protected override async Task<IStageCompleted> WorkAsync(TranscodeVideo command, StageProgress progress, CancellationToken cancellationToken)
    {
        var source = command.Source;
        var rungs = ladder.For(source);
        foreach (var warning in await transcoder.WarningsAsync(source, cancellationToken)) await progress.WarnAsync(warning, cancellationToken);
        await progress.ReportAsync(0, $"encoding {string.Join(", ", rungs.Select(r => r.Name))}", force: true, cancellationToken: cancellationToken);

        // A re-delivered command starts clean rather than trusting a dead node's half-written files.
        await RemovePartialOutputAsync(command);
        var partial = StorageKeys.Partial(command.OutputPrefix);
        var files = await transcoder.TranscodeAsync(store.PathFor(command.SourceKey), source, rungs, store.PathFor(partial),
            (ffmpeg, percent) => _ = progress.ReportAsync(percent,
                $"frame {ffmpeg.Frame ?? 0} of {source.FrameCount}, {ffmpeg.Fps ?? 0:0.#} fps, {ffmpeg.Speed ?? 0:0.##}x",
                ffmpeg.ToDetails(source.FrameCount, source.DurationSeconds), cancellationToken: cancellationToken),
            cancellationToken);
        // The renditions appear under their keys all at once, complete.
        await store.MovePrefixAsync(partial, command.OutputPrefix, cancellationToken);

        await progress.ReportAsync(100, $"encoded {files.Count} renditions", force: true, cancellationToken: cancellationToken);
        var renditions = files.Select(f => f.ToRendition($"{command.OutputPrefix}/{Path.GetFileName(f.Path)}")).ToList();
        return new VideoTranscoded(command.JobId, command.Attempt, renditions);
    }

    protected override double MediaSeconds(TranscodeVideo command) => command.Source.DurationSeconds;

    protected override async Task RemovePartialOutputAsync(TranscodeVideo command)
    {
        await store.DeletePrefixAsync(StorageKeys.Partial(command.OutputPrefix), CancellationToken.None);
        await store.DeletePrefixAsync(command.OutputPrefix, CancellationToken.None);
    }
}
