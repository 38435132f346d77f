using Vidline.Contracts;
using Vidline.Media;
using Vidline.Media.Storage;
using Vidline.StageWorker;

namespace Vidline.Packager;

/// <summary>Packages the transcoder's fMP4 segments as HLS and DASH: manifests over the same segments, checked before they are published.</summary>
public sealed class PackageRenditionsConsumer(StageRuntime runtime, AbrPackager packager, IMediaStore store)
    : StageConsumer<PackageRenditions>(runtime)
{
    protected override async Task<IStageCompleted> WorkAsync(PackageRenditions command, StageProgress progress, CancellationToken cancellationToken)
    {
        await RemovePartialOutputAsync(command, final: false);
        var partial = StorageKeys.Partial(command.OutputPrefix);
        var files = command.Renditions.Select(r => RenditionFile.From(r, store)).ToList();
        // No media is re-muxed: the transcoder's segments are linked into the package and the manifests written over them.
        var package = await packager.PackageAsync(files, store.PathFor(partial), cancellationToken);
        // The package appears under its prefix all at once, complete.
        await store.MovePrefixAsync(partial, command.OutputPrefix, cancellationToken);
        await progress.ReportAsync(100, $"packaged {files.Count} renditions as HLS and DASH", force: true, cancellationToken: cancellationToken);
        return new RenditionsPackaged(command.JobId, command.Attempt, command.OutputPrefix, package.HlsMaster, package.DashManifest);
    }

    protected override double MediaSeconds(PackageRenditions command) => command.MediaSeconds;

    protected override async Task RemovePartialOutputAsync(PackageRenditions command, bool final)
    {
        await store.DeletePrefixAsync(StorageKeys.Partial(command.OutputPrefix), CancellationToken.None);
        await store.DeletePrefixAsync(command.OutputPrefix, CancellationToken.None);
    }
}
