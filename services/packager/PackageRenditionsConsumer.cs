using MassTransit;
using Vidline.Contracts;
using Vidline.Media;
using Vidline.Media.Storage;
using Vidline.ServiceDefaults;

namespace Vidline.Packager;

/// <summary>Packages the renditions as HLS and DASH from one set of fMP4 segments.</summary>
public sealed class PackageRenditionsConsumer(StageWork stage, AbrPackager packager, IMediaStore store) : IConsumer<PackageRenditions>
{
    public Task Consume(ConsumeContext<PackageRenditions> context)
    {
        var command = context.Message;
        return stage.RunAsync(context, command.JobId, command.Attempt, Stages.Packaging, async (progress, cancellationToken) =>
        {
            await store.DeletePrefixAsync(command.OutputPrefix, cancellationToken);
            var files = command.Renditions.Select(r => RenditionFile.From(r, store.PathFor(r.Key))).ToList();
            var package = await packager.PackageAsync(files, store.PathFor(command.OutputPrefix), cancellationToken);
            await progress.ReportAsync(100, $"packaged {files.Count} renditions as HLS and DASH", force: true, cancellationToken: cancellationToken);
            await context.Publish(new RenditionsPackaged(command.JobId, command.Attempt, command.OutputPrefix,
                package.HlsMaster, package.DashManifest), cancellationToken);
        }, () => store.DeletePrefixAsync(command.OutputPrefix, CancellationToken.None));
    }
}
