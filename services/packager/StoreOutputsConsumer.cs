using MassTransit;
using Vidline.Contracts;
using Vidline.Media.Storage;
using Vidline.ServiceDefaults;

namespace Vidline.Packager;

/// <summary>Publishes the package under <c>outputs/{job}</c>, where the edge serves it, and hands back the manifest URLs.</summary>
public sealed class StoreOutputsConsumer(StageWork stage, IMediaStore store) : IConsumer<StoreOutputs>
{
    public Task Consume(ConsumeContext<StoreOutputs> context)
    {
        var command = context.Message;
        var outputs = StorageKeys.Outputs(command.JobId);
        return stage.RunAsync(context, command.JobId, command.Attempt, Stages.Storage, async (progress, cancellationToken) =>
        {
            await store.CopyPrefixAsync(command.PackagePrefix, outputs, cancellationToken);
            // The working copies are no longer needed once the outputs are published.
            await store.DeletePrefixAsync(StorageKeys.Work(command.JobId), cancellationToken);
            await progress.ReportAsync(100, "outputs published", force: true, cancellationToken: cancellationToken);
            await context.Publish(new OutputsStored(command.JobId, command.Attempt,
                StorageKeys.PublicUrl($"{outputs}/{command.HlsManifest}"),
                StorageKeys.PublicUrl($"{outputs}/{command.DashManifest}")), cancellationToken);
        }, () => store.DeletePrefixAsync(outputs, CancellationToken.None));
    }
}
