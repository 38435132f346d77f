using MassTransit;
using Vidline.Contracts;
using Vidline.Media.Storage;

namespace Vidline.IngestApi.Jobs;

/// <summary>
/// Removes a cancelled job's files. The node that was working on it also removes what it wrote after
/// it stops, so whichever runs last, nothing partial is left behind.
/// </summary>
public sealed class CancelledJobCleanup(IMediaStore store) : IConsumer<JobCancelled>
{
    public async Task Consume(ConsumeContext<JobCancelled> context)
    {
        var jobId = context.Message.JobId;
        await store.DeletePrefixAsync(StorageKeys.Work(jobId), context.CancellationToken);
        await store.DeletePrefixAsync(StorageKeys.Uploads(jobId), context.CancellationToken);
        await store.DeletePrefixAsync(StorageKeys.Outputs(jobId), context.CancellationToken);
    }
}
