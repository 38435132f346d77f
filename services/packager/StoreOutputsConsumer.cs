using Vidline.Contracts;
using Vidline.Media.Storage;
using Vidline.StageWorker;

namespace Vidline.Packager;

/// <summary>
/// Publishes the package under <c>outputs/{job}</c>, where the edge serves it, by renaming it there in one step,
/// and hands back the manifest URLs. It leaves the rest of <c>work/{job}</c> alone: its owner (ingest-api) removes it
/// once the job is recorded as completed, so a crash before <see cref="OutputsStored"/> is recorded loses nothing.
/// </summary>
public sealed class StoreOutputsConsumer(StageRuntime runtime, IMediaStore store) : StageConsumer<StoreOutputs>(runtime)
{
    protected override async Task<IStageCompleted> WorkAsync(StoreOutputs command, StageProgress progress, CancellationToken cancellationToken)
    {
        var outputs = StorageKeys.Outputs(command.JobId);
        // Outputs appear only by a whole rename, so if they are there, an earlier delivery published them and
        // this one (a redelivery, or a duplicate command) just answers.
        if (!store.Exists($"{outputs}/{command.HlsManifest}"))
            await store.MovePrefixAsync(command.PackagePrefix, outputs, cancellationToken);
        await progress.ReportAsync(100, "outputs published", force: true, cancellationToken: cancellationToken);
        return new OutputsStored(command.JobId, command.Attempt,
            StorageKeys.PublicUrl($"{outputs}/{command.HlsManifest}"),
            StorageKeys.PublicUrl($"{outputs}/{command.DashManifest}"));
    }
}
