using MassTransit;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Vidline.Contracts;
using Vidline.Media;
using Vidline.Media.Storage;
using Vidline.ServiceDefaults;
using Vidline.StageWorker;

namespace Vidline.IngestApi.Uploads;

/// <summary>The fields of a finished upload.</summary>
public sealed record ReceivedUpload(Guid JobId, string Key, int Priority);

/// <summary>
/// Reads a multipart upload section by section, streaming the <c>video</c> part straight to storage
/// (never into memory), and drives the job's first stage: JobSubmitted when the file starts to
/// arrive, upload progress while it does, then VideoUploaded or UploadRejected.
/// </summary>
public sealed class UploadReceiver(IMediaStore store, MediaProbe probe, IPublishEndpoint publisher, ProgressOutbox outbox,
    IOptions<UploadOptions> options, IOptions<StageWorkOptions> stageWork, TimeProvider clock, ILogger<UploadReceiver> logger)
{
    private const int FirstRun = 1; // an upload always starts a job's first run
    private readonly UploadOptions _options = options.Value;

    public async Task<ReceivedUpload> ReceiveAsync(HttpRequest request, Guid jobId, string owner, CancellationToken cancellationToken)
    {
        using var jobScope = JobLogScope.Begin(logger, jobId);
        var boundary = BoundaryOf(request);
        var reader = new MultipartReader(boundary, request.Body) { BodyLengthLimit = _options.MaxBytes };
        string? key = null, fileName = null;
        int? priority = null;
        var submitted = false;
        var submittedAt = clock.GetUtcNow();
        try
        {
            MultipartSection? section;
            while ((section = await reader.ReadNextSectionAsync(cancellationToken)) is not null)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)) continue;
                var name = disposition.Name.Value?.Trim('"');
                if (disposition.IsFileDisposition() && name == "video")
                {
                    if (submitted) throw new UploadRejection(400, "Invalid upload", "Send exactly one 'video' file.");
                    fileName = Path.GetFileName(disposition.FileName.Value?.Trim('"') ?? "") is { Length: > 0 } f ? f : "video";
                    // The job exists from the moment its file starts to arrive, so the upload itself shows progress.
                    await publisher.Publish(new JobSubmitted(jobId, key ?? fileName, owner, priority ?? 0, submittedAt), cancellationToken);
                    submitted = true;
                    await SaveVideoAsync(section.Body, jobId, request.ContentLength, cancellationToken);
                }
                else if (name == "key")
                    key = (await section.ReadAsStringAsync(cancellationToken)).Trim();
                else if (name == "priority")
                    priority = ParsePriority(await section.ReadAsStringAsync(cancellationToken));
            }
            if (!submitted)
                throw new UploadRejection(400, "Missing video", "The form needs a file field named 'video'.");

            key = string.IsNullOrWhiteSpace(key) ? fileName! : key;
            if (key.Length > _options.MaxKeyLength)
                throw new UploadRejection(400, "Invalid key", $"'key' may be at most {_options.MaxKeyLength} characters.");

            var sourceKey = StorageKeys.Source(jobId);
            var media = await ProbeAsync(store.PathFor(sourceKey), cancellationToken);
            await new StageProgress(outbox, jobId, FirstRun, Stages.Uploading, TimeSpan.Zero, clock)
                .ReportAsync(100, "upload complete", force: true, cancellationToken: cancellationToken);
            await publisher.Publish(new VideoUploaded(jobId, key, owner, priority ?? 0, submittedAt, sourceKey, media), cancellationToken);
            return new ReceivedUpload(jobId, key, priority ?? 0);
        }
        catch (Exception e)
        {
            var rejection = e as UploadRejection ?? RejectionFor(e);
            if (e is not UploadRejection) logger.LogWarning(e, "Upload of job {JobId} failed", jobId);
            if (submitted)
            {
                // The job exists: it must end, with the reason, and leave no half-written file behind.
                await store.DeletePrefixAsync(StorageKeys.Uploads(jobId), CancellationToken.None);
                await publisher.Publish(new UploadRejected(jobId, rejection.Detail), CancellationToken.None);
            }
            throw rejection;
        }
    }

    /// <summary>What the client (and the failed job) is told when the upload broke for a reason of its own.</summary>
    private UploadRejection RejectionFor(Exception e) => e switch
    {
        InvalidDataException => new(400, "Invalid upload", $"The upload is malformed or larger than {_options.MaxBytes} bytes."),
        OperationCanceledException or IOException => new(400, "Upload interrupted", "The upload was interrupted before it completed."),
        _ => new(500, "Upload failed", "The upload could not be stored."),
    };

    private async Task SaveVideoAsync(Stream body, Guid jobId, long? contentLength, CancellationToken cancellationToken)
    {
        // A long upload keeps the stall sweep away the way a working stage does (the upload is attempt 0): it beats while bytes arrive.
        await using var heartbeats = new AttemptWatchdog(outbox, new StageHeartbeat(jobId, Stages.Uploading, 0, default),
            WatchLimits.HeartbeatsOnly(stageWork.Value.HeartbeatInterval), logger, cancellationToken);
        var progress = new StageProgress(outbox, jobId, FirstRun, Stages.Uploading, _options.ProgressInterval, clock);
        await progress.ReportAsync(0, "upload started", force: true, cancellationToken: cancellationToken);
        // Progress events are fire-and-forget from the copy loop: publishing never slows the upload down.
        var reporter = new Progress<long>(bytes =>
        {
            heartbeats.Advanced();
            var percent = contentLength is > 0 ? Math.Min(99, 100.0 * bytes / contentLength.Value) : 0;
            _ = progress.ReportAsync(percent, $"received {bytes / (1024 * 1024)} MiB", cancellationToken: cancellationToken);
        });
        IngestMetrics.UploadBytes.Add(await store.WriteAsync(StorageKeys.Source(jobId), body, reporter, cancellationToken));
    }

    private async Task<MediaInfo> ProbeAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            return await probe.ProbeAsync(path, cancellationToken);
        }
        catch (UnusableMediaException e)
        {
            throw new UploadRejection(422, "Unusable media", e.Reason);
        }
    }

    private static string BoundaryOf(HttpRequest request)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var contentType) ||
            !contentType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
            throw new UploadRejection(415, "Unsupported media type", "Send the video as multipart/form-data with a file field named 'video'.");
        var boundary = HeaderUtilities.RemoveQuotes(contentType.Boundary).Value;
        if (string.IsNullOrWhiteSpace(boundary))
            throw new UploadRejection(400, "Invalid upload", "The multipart boundary is missing.");
        return boundary;
    }

    private static int ParsePriority(string value) =>
        int.TryParse(value.Trim(), out var priority) && priority is >= 0 and <= Stages.MaxPriority
            ? priority
            : throw new UploadRejection(400, "Invalid priority", $"'priority' must be a whole number from 0 to {Stages.MaxPriority}.");
}
