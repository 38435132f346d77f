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
        await store.DeletePrefixAsync(command.OutputPrefix, cancellationToken);
        var files = command.Renditions.Select(r => RenditionFile.From(r, store.PathFor(r.Key))).ToList();
        var package = await packager.PackageAsync(files, store.PathFor(command.OutputPrefix), cancellationToken);
        await progress.ReportAsync(100, $"packaged {files.Count} renditions as HLS and DASH", force: true, cancellationToken: cancellationToken);
        return new RenditionsPackaged(command.JobId, command.Attempt, command.OutputPrefix, package.HlsMaster, package.DashManifest);
    }

    protected override Task RemovePartialOutputAsync(PackageRenditions command) =>
        store.DeletePrefixAsync(command.OutputPrefix, CancellationToken.None);
}
