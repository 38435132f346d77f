using System.Globalization;
using Vidline.Contracts;
using Vidline.Media;
using Vidline.Media.Storage;
using Vidline.StageWorker;

namespace Vidline.Transcoder;

/// <summary>
/// Encodes the source into the ABR ladder in one ffmpeg process, reporting frame-level progress. An attempt goes on
/// from the complete segments an interrupted earlier attempt of the job left (a killed node, a stopped ffmpeg) instead
/// of starting again from zero.
/// </summary>
public sealed class TranscodeVideoConsumer(StageRuntime runtime, RenditionLadder ladder, LadderTranscoder transcoder, IMediaStore store)
    : StageConsumer<TranscodeVideo>(runtime)
{
    protected override async Task<IStageCompleted> WorkAsync(TranscodeVideo command, StageProgress progress, CancellationToken cancellationToken)
    {
        var source = command.Source;
        var rungs = ladder.For(source);
        foreach (var warning in await transcoder.WarningsAsync(source, cancellationToken)) await progress.WarnAsync(warning, cancellationToken);
        await progress.ReportAsync(0, $"encoding {string.Join(", ", rungs.Select(r => r.Name))}", force: true, cancellationToken: cancellationToken);

        var partial = StorageKeys.Partial(command.OutputPrefix);
        await AdoptEarlierSegmentsAsync(command, cancellationToken);
        var files = await transcoder.TranscodeAsync(store.PathFor(command.SourceKey), source, rungs, store.PathFor(partial),
            (ffmpeg, percent) => _ = progress.ReportAsync(percent,
                $"frame {ffmpeg.Frame ?? 0} of {source.FrameCount}, {ffmpeg.Fps ?? 0:0.#} fps, {ffmpeg.Speed ?? 0:0.##}x",
                ffmpeg.ToDetails(source.FrameCount, source.DurationSeconds), cancellationToken: cancellationToken),
            cancellationToken,
            (resume, percent) => _ = progress.ReportAsync(percent,
                $"resuming after segment {resume.Segments} ({resume.VideoSeconds:0.#} s) left by an interrupted attempt",
                force: true, cancellationToken: cancellationToken));
        // The renditions appear under their keys all at once, complete.
        await store.MovePrefixAsync(partial, command.OutputPrefix, cancellationToken);

        await progress.ReportAsync(100, $"encoded {files.Count} renditions", force: true, cancellationToken: cancellationToken);
        var audioKey = files[0].AudioPath is { } audio ? KeyOf(command, partial, audio) : null;
        var renditions = files.Select(f => f.ToRendition(KeyOf(command, partial, f.Path), audioKey)).ToList();
        return new VideoTranscoded(command.JobId, command.Attempt, renditions);
    }

    /// <summary>The published key of a file the encode wrote under the attempt's partial folder.</summary>
    private string KeyOf(TranscodeVideo command, string partial, string path) =>
        command.OutputPrefix + "/" + Path.GetRelativePath(store.PathFor(partial), path).Replace('\\', '/');

    /// <summary>
    /// An interrupted attempt leaves its complete segments in its partial folder (a node killed or stopped mid-encode
    /// removes nothing). This attempt carries the newest such folder's complete segments over into a fresh folder of
    /// its own (hard links, <see cref="LadderFolder.CarryOver"/>), and the encoder decides what in it can be gone on
    /// from. Every earlier folder is then removed: a stale node still writing there writes only into unlinked files.
    /// </summary>
    private async Task AdoptEarlierSegmentsAsync(TranscodeVideo command, CancellationToken cancellationToken)
    {
        var partial = StorageKeys.Partial(command.OutputPrefix);
        var parent = command.OutputPrefix[..Math.Max(0, command.OutputPrefix.LastIndexOf('/'))];
        if (parent.Length == 0) return;
        var earlier = store.PrefixesUnder(parent)
            .Where(p => p != partial && p.EndsWith(StorageKeys.Partial(""), StringComparison.Ordinal))
            .OrderByDescending(AttemptOf)
            .ToList();
        var own = store.PrefixesUnder(parent).Contains(partial);
        foreach (var (prefix, newest) in earlier.Select((p, i) => (p, i == 0)))
        {
            if (newest && !own) LadderFolder.CarryOver(store.PathFor(prefix), store.PathFor(partial));
            await store.DeletePrefixAsync(prefix, cancellationToken);
        }
    }

    /// <summary>"work/j/renditions/attempt-12.partial" → 12 (folders named otherwise come last).</summary>
    private static int AttemptOf(string prefix)
    {
        var name = prefix[(prefix.LastIndexOf('/') + 1)..].Replace(StorageKeys.Partial(""), "");
        var digits = name[(name.LastIndexOf('-') + 1)..];
        return int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : -1;
    }

    protected override double MediaSeconds(TranscodeVideo command) => command.Source.DurationSeconds;

    /// <summary>
    /// The segments of a cancelled job, or of one that failed for good, go: nothing will go on from them. An attempt that
    /// failed transiently or was stopped keeps its complete segments for the next attempt to go on from (the encoder
    /// already removed the half-written one); ingest-api removes them with the job's work when the job completes, is
    /// cancelled or expires.
    /// </summary>
    protected override async Task RemovePartialOutputAsync(TranscodeVideo command, bool final)
    {
        if (final) await store.DeletePrefixAsync(StorageKeys.Partial(command.OutputPrefix), CancellationToken.None);
        await store.DeletePrefixAsync(command.OutputPrefix, CancellationToken.None);
    }
}
