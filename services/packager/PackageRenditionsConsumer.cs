using Vidline.Contracts;
using Vidline.Media;
using Vidline.Media.Storage;
using Vidline.StageWorker;

namespace Vidline.Packager;

/// <summary>Packages the renditions as HLS and DASH from one set of fMP4 segments.</summary>
public sealed class PackageRenditionsConsumer(StageRuntime runtime, AbrPackager packager, IMediaStore store)
    : StageConsumer<PackageRenditions>(runtime)
{
    protected override async Task<IStageCompleted> WorkAsync(PackageRenditions command, StageProgress progress, CancellationToken cancellationToken)
    {
        await RemovePartialOutputAsync(command);
        var partial = StorageKeys.Partial(command.OutputPrefix);
        var files = command.Renditions.Select(r => RenditionFile.From(r, store.PathFor(r.Key))).ToList();
        // The muxer's output time moving on is the stage's sign of life for its watchdog (a long source takes a while).
        var muxed = TimeSpan.Zero;
        var package = await packager.PackageAsync(files, store.PathFor(partial), cancellationToken, ffmpeg =>
        {
            if (ffmpeg.OutTime is not { } at || at <= muxed) return;
            muxed = at;
            progress.Advancing();
        });
        // The package appears under its prefix all at once, complete.
        await store.MovePrefixAsync(partial, command.OutputPrefix, cancellationToken);
        await progress.ReportAsync(100, $"packaged {files.Count} renditions as HLS and DASH", force: true, cancellationToken: cancellationToken);
        return new RenditionsPackaged(command.JobId, command.Attempt, command.OutputPrefix, package.HlsMaster, package.DashManifest);
    }

    protected override double MediaSeconds(PackageRenditions command) => command.MediaSeconds;

    protected override async Task RemovePartialOutputAsync(PackageRenditions command)
    {
        await store.DeletePrefixAsync(StorageKeys.Partial(command.OutputPrefix), CancellationToken.None);
        await store.DeletePrefixAsync(command.OutputPrefix, CancellationToken.None);
    }
}
