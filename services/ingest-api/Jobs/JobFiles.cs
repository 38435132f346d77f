using MassTransit;
using Vidline.Contracts;
using Vidline.Media.Storage;

namespace Vidline.IngestApi.Jobs;

/// <summary>
/// ingest-api owns a job's files (upload, work folders, outputs) and removes them when the job is cancelled or
/// expires. After a cancel the node that was working also removes what it wrote once it stops, so whichever runs
/// last, nothing partial is left behind. The work folders (every attempt's files and records) go once the job is
/// recorded as completed, not earlier: until then a stage delivered again still finds its input. The upload goes
/// when the job failed during it.
/// </summary>
public sealed class JobFiles(IMediaStore store) : IConsumer<JobCancelled>, IConsumer<JobExpired>, IConsumer<JobStatusChanged>
{
    public const string Queue = "job-files";

    public Task Consume(ConsumeContext<JobStatusChanged> context) => context.Message switch
    {
        { Status: JobStatuses.Completed } job => store.DeletePrefixAsync(StorageKeys.Work(job.JobId), context.CancellationToken),
        // A job that failed during its upload can never be retried (the video must be sent again), so whatever of the
        // video arrived is of no use: the request that was writing it may have died with its process.
        { Status: JobStatuses.Failed } job when job.Stage == Stages.Uploading.Name =>
            store.DeletePrefixAsync(StorageKeys.Uploads(job.JobId), context.CancellationToken),
        _ => Task.CompletedTask,
    };

    public Task Consume(ConsumeContext<JobCancelled> context) => DeleteAsync(context.Message.JobId, context.CancellationToken);

    public Task Consume(ConsumeContext<JobExpired> context) => DeleteAsync(context.Message.JobId, context.CancellationToken);

    private async Task DeleteAsync(Guid jobId, CancellationToken cancellationToken)
    {
        await store.DeletePrefixAsync(StorageKeys.Work(jobId), cancellationToken);
        await store.DeletePrefixAsync(StorageKeys.Uploads(jobId), cancellationToken);
        await store.DeletePrefixAsync(StorageKeys.Outputs(jobId), cancellationToken);
    }
}
