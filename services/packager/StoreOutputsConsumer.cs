using Vidline.Contracts;
using Vidline.Media.Storage;
using Vidline.StageWorker;

namespace Vidline.Packager;

/// <summary>Publishes the package under <c>outputs/{job}</c>, where the edge serves it, and hands back the manifest URLs.</summary>
public sealed class StoreOutputsConsumer(StageRuntime runtime, IMediaStore store) : StageConsumer<StoreOutputs>(runtime)
{
    protected override async Task<IStageCompleted> WorkAsync(StoreOutputs command, StageProgress progress, CancellationToken cancellationToken)
    {
        var outputs = StorageKeys.Outputs(command.JobId);
        await store.CopyPrefixAsync(command.PackagePrefix, outputs, cancellationToken);
        // The working copies are no longer needed once the outputs are published.
        await store.DeletePrefixAsync(StorageKeys.Work(command.JobId), cancellationToken);
        await progress.ReportAsync(100, "outputs published", force: true, cancellationToken: cancellationToken);
        return new OutputsStored(command.JobId, command.Attempt,
            StorageKeys.PublicUrl($"{outputs}/{command.HlsManifest}"),
            StorageKeys.PublicUrl($"{outputs}/{command.DashManifest}"));
    }

    protected override Task RemovePartialOutputAsync(StoreOutputs command) =>
        store.DeletePrefixAsync(StorageKeys.Outputs(command.JobId), CancellationToken.None);
}
