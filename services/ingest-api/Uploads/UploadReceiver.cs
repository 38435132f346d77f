using System.Globalization;
using System.Text;
using MassTransit;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Vidline.Contracts;
using Vidline.IngestApi.Apis;
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
/// arrive, upload progress and heartbeats while the request lasts, then VideoUploaded — which the saga
/// answers: only an accepted upload gets 202 — or UploadRejected.
/// The <c>key</c> and <c>priority</c> fields are checked as soon as they are read; clients should send
/// them before the video, so that a bad one is refused before the file is stored.
/// </summary>
public sealed class UploadReceiver(IMediaStore store, MediaProbe probe, IPublishEndpoint publisher, ProgressOutbox outbox,
    IRequestClient<VideoUploaded> saga, IOptions<UploadOptions> options, IOptions<StageWorkOptions> stageWork,
    IHostApplicationLifetime lifetime, TimeProvider clock, ILogger<UploadReceiver> logger)
{
    private const int FirstRun = 1; // an upload always starts a job's first run
    private const int MaxPriorityFieldBytes = 16;
    private const int MaxBoundaryLength = 70;
    // The reader hands the body on at most a buffer at a time: its default, 4 KB, made a 200 MB upload 50,000 reads,
    // each a trip through the async machinery, a boundary scan and a progress report.
    private const int ReadBufferBytes = 64 * 1024;
    private readonly UploadOptions _options = options.Value;

    public async Task<ReceivedUpload> ReceiveAsync(HttpRequest request, Guid jobId, string owner, CancellationToken requestAborted)
    {
        using var jobScope = JobLogScope.Begin(logger, jobId);
        // A stopping service ends its uploads at once, while it can still clean up and tell the saga, rather than
        // being killed mid-write by the stop timeout.
        using var uploading = CancellationTokenSource.CreateLinkedTokenSource(requestAborted, lifetime.ApplicationStopping);
        var cancellationToken = uploading.Token;
        var boundary = BoundaryOf(request);
        RefuseWhatCannotFit(request.ContentLength);
        // The limit is this reader's own (CappedBody), the same in every host: the server's general one would stop the
        // read with an error of its own.
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } serverLimit)
            serverLimit.MaxRequestBodySize = null;
        var reader = new MultipartReader(boundary, new CappedBody(request.Body, _options.MaxBytes), ReadBufferBytes) { BodyLengthLimit = null };
        string? key = null, fileName = null;
        int? priority = null;
        var submitted = false;
        var submittedAt = clock.GetUtcNow();
        AttemptWatchdog? heartbeats = null;
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
                    fileName = KeyFromFileName(disposition.FileName.Value?.Trim('"'));
                    // The job exists from the moment its file starts to arrive, so the upload itself shows progress.
                    await publisher.Publish(new JobSubmitted(jobId, key ?? fileName, owner, priority ?? 0, submittedAt), cancellationToken);
                    submitted = true;
                    // The upload is the job's first stage and this request its node: it beats for as long as the request
                    // lives (a paused client included), so the stall sweep leaves it alone until the request ends.
                    heartbeats = new AttemptWatchdog(outbox, new StageHeartbeat(jobId, Stages.Uploading, 0, default),
                        WatchLimits.WhileAlive(stageWork.Value.HeartbeatInterval), logger, cancellationToken);
                    await SaveVideoAsync(section.Body, jobId, request.ContentLength, cancellationToken);
                }
                else if (name == "key")
                    key = key is null ? ParseKey(await ReadFieldAsync(section, "key", _options.MaxKeyLength * 4, cancellationToken)) : throw Repeated("key");
                else if (name == "priority")
                    priority = priority is null ? ParsePriority(await ReadFieldAsync(section, "priority", MaxPriorityFieldBytes, cancellationToken)) : throw Repeated("priority");
            }
            if (!submitted)
                throw new UploadRejection(400, "Missing video", "The form needs a file field named 'video'.");

            key = string.IsNullOrEmpty(key) ? fileName! : key;
            var sourceKey = StorageKeys.Source(jobId);
            var media = await ProbeAsync(jobId, cancellationToken);
            await new StageProgress(outbox, jobId, FirstRun, Stages.Uploading, TimeSpan.Zero, clock)
                .ReportAsync(100, "upload complete", force: true, cancellationToken: cancellationToken);
            await HandOverAsync(new VideoUploaded(jobId, key, owner, priority ?? 0, submittedAt, sourceKey, media));
            return new ReceivedUpload(jobId, key, priority ?? 0);
        }
        catch (Exception e)
        {
            var rejection = e as UploadRejection ?? RejectionFor(e, jobId, submitted);
            if (e is not UploadRejection) logger.LogWarning(e, "Upload of job {JobId} failed", jobId);
            if (submitted)
            {
                // The job exists: it must end, with the reason, and leave no half-written file behind.
                await store.DeletePrefixAsync(StorageKeys.Uploads(jobId), CancellationToken.None);
                await publisher.Publish(new UploadRejected(jobId, key ?? fileName ?? "video", owner, priority ?? 0, submittedAt, rejection.Detail),
                    CancellationToken.None);
            }
            rejection.JobCreated = submitted;
            throw rejection;
        }
        finally
        {
            if (heartbeats is not null) await heartbeats.DisposeAsync();
        }
    }

    /// <summary>
    /// Gives the stored upload to the saga and waits for its answer: a job that ended meanwhile (its upload stalled in
    /// the sweep, or it was cancelled) refuses it, and the request must not answer 202. A saga too slow to answer
    /// (its database down, say) will still take the upload from the queue: that counts as accepted.
    /// Once sent, the upload is the saga's: neither the client leaving nor the service stopping cuts the wait short, as
    /// the rejection that would follow deletes a source the saga may already be working from.
    /// </summary>
    private async Task HandOverAsync(VideoUploaded upload)
    {
        try
        {
            var answer = await saga.GetResponse<JobCommandAccepted, JobCommandRefused>(upload, CancellationToken.None, RequestTimeout.After(s: 10));
            if (answer.Is(out Response<JobCommandRefused>? refused))
                throw new UploadRejection(409, "Upload no longer wanted", refused.Message.Detail);
        }
        catch (RequestTimeoutException)
        {
            logger.LogWarning("Job {JobId}: the saga did not answer the upload in time; it is queued for it", upload.JobId);
        }
    }

    /// <summary>
    /// An upload announced as larger than the limit (413), or than storage has room for beyond its reserve (507), is
    /// refused before a byte of it is read: no job is created for it.
    /// </summary>
    private void RefuseWhatCannotFit(long? contentLength)
    {
        if (contentLength > _options.MaxBytes) throw CappedBody.TooLarge(_options.MaxBytes);
        if (store.AvailableBytes() is { } available && available - (contentLength ?? 0) < _options.StorageReserveBytes)
            throw StorageFullRejection();
    }

    private static UploadRejection StorageFullRejection() => new(StatusCodes.Status507InsufficientStorage, "Insufficient storage",
        "Storage has no room for this upload right now. Try again later.");

    /// <summary>What the client (and the failed job) is told when the upload broke for a reason of its own.</summary>
    private UploadRejection RejectionFor(Exception e, Guid jobId, bool submitted) => e switch
    {
        _ when StorageFull.Is(e) => StorageFullRejection(),
        // The server gave up on a client that sent too slowly (or paused too long).
        BadHttpRequestException { StatusCode: StatusCodes.Status408RequestTimeout } => new(408, "Upload not received",
            "The client sent the upload too slowly (or paused too long), so it was abandoned. Send the video again."),
        // Mostly a client that hung up mid-body ("unexpected end of request content"), else a malformed chunked body.
        BadHttpRequestException bad => new(bad.StatusCode, "Upload interrupted",
            "The upload was interrupted before it completed (or its HTTP body was malformed). Send the video again."),
        // The file being written went with its ended job. Before the video part there is no upload folder to miss.
        IOException when submitted && UploadRemoved(jobId) => EndedMeanwhile(jobId),
        OperationCanceledException when lifetime.ApplicationStopping.IsCancellationRequested =>
            new(503, "Service stopping", "ingest-api stopped while the upload was arriving. Send the video again."),
        _ when IngestOutages.ReasonFor(e) is { } reason => new(503, "Service unavailable", reason),
        InvalidDataException => new(400, "Invalid upload", "The multipart upload is malformed."),
        OperationCanceledException or IOException => new(400, "Upload interrupted", "The upload was interrupted before it completed."),
        _ => new(500, "Upload failed", "The upload could not be stored."),
    };

    private async Task SaveVideoAsync(Stream body, Guid jobId, long? contentLength, CancellationToken cancellationToken)
    {
        var progress = new StageProgress(outbox, jobId, FirstRun, Stages.Uploading, _options.ProgressInterval, clock);
        await progress.ReportAsync(0, "upload started", force: true, cancellationToken: cancellationToken);
        IngestMetrics.UploadBytes.Add(await store.WriteAsync(StorageKeys.Source(jobId), body, new UploadProgress(progress, contentLength), cancellationToken));
    }

    /// <summary>
    /// How much of the video has arrived, told from the copy loop itself. Reporting only posts to the outbox (throttled,
    /// never blocking), so it needs no hop of its own: <c>Progress&lt;T&gt;</c> queued a thread-pool item for every read.
    /// </summary>
    private sealed class UploadProgress(StageProgress progress, long? contentLength) : IProgress<long>
    {
        public void Report(long bytes)
        {
            var percent = contentLength is > 0 ? Math.Min(99, 100.0 * bytes / contentLength.Value) : 0;
            _ = progress.ReportAsync(percent, $"received {bytes / (1024 * 1024)} MiB");
        }
    }

    private static UploadRejection EndedMeanwhile(Guid jobId) => new(409, "Upload no longer wanted",
        $"Job {jobId} ended while its video was still arriving, and its files were removed: its upload came too late. Submit the video again.");

    private async Task<MediaInfo> ProbeAsync(Guid jobId, CancellationToken cancellationToken)
    {
        var sourceKey = StorageKeys.Source(jobId);
        try
        {
            return await probe.ProbeAsync(store.PathFor(sourceKey), cancellationToken);
        }
        // The file was stored a moment ago: gone now under ffprobe, it went with its job, which ended meanwhile
        // (JobFiles removed the upload folder). That, not the media, is the reason.
        catch (UnusableMediaException) when (!store.Exists(sourceKey))
        {
            throw EndedMeanwhile(jobId);
        }
        catch (UnusableMediaException e)
        {
            throw new UploadRejection(422, "Unusable media", e.Reason);
        }
    }

    /// <summary>
    /// Only JobFiles removes a job's upload folder, and only once the job has ended (cancelled, expired, or failed
    /// during its upload): the file being written or probed went with it.
    /// </summary>
    private bool UploadRemoved(Guid jobId) => !Directory.Exists(store.PathFor(StorageKeys.Uploads(jobId)));

    private static string BoundaryOf(HttpRequest request)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var contentType) ||
            !contentType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
            throw new UploadRejection(415, "Unsupported media type", "Send the video as multipart/form-data with a file field named 'video'.");
        var boundary = HeaderUtilities.RemoveQuotes(contentType.Boundary).Value;
        if (string.IsNullOrWhiteSpace(boundary))
            throw new UploadRejection(400, "Invalid upload", "The multipart boundary is missing.");
        // RFC 2046 allows 70 characters; the reader could not hold a much longer one in its buffer.
        if (boundary.Length > MaxBoundaryLength)
            throw new UploadRejection(400, "Invalid upload", $"The multipart boundary may be at most {MaxBoundaryLength} characters.");
        return boundary;
    }

    /// <summary>
    /// A form field's value, read without ever holding more than <paramref name="maxBytes"/>: a larger part is refused as
    /// soon as it exceeds them, however much the client sends.
    /// </summary>
    private static async Task<string> ReadFieldAsync(MultipartSection section, string name, int maxBytes, CancellationToken cancellationToken)
    {
        var buffer = new byte[maxBytes + 1];
        int length = 0, read;
        while (length < buffer.Length && (read = await section.Body.ReadAsync(buffer.AsMemory(length), cancellationToken)) > 0)
            length += read;
        if (length > maxBytes)
            throw new UploadRejection(400, $"Invalid {name}", $"'{name}' is too long.");
        try
        {
            return StrictUtf8.GetString(buffer, 0, length);
        }
        catch (DecoderFallbackException)
        {
            throw new UploadRejection(400, $"Invalid {name}", $"'{name}' is not UTF-8 text.");
        }
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The job's name: at most <c>Upload:MaxKeyLength</c> characters, none of them a control character (NUL included).</summary>
    private string ParseKey(string value)
    {
        var key = value.Trim();
        if (key.Length > _options.MaxKeyLength)
            throw new UploadRejection(400, "Invalid key", $"'key' may be at most {_options.MaxKeyLength} characters.");
        if (key.Any(char.IsControl))
            throw new UploadRejection(400, "Invalid key", "'key' may not contain control characters.");
        return key;
    }

    /// <summary>The default key, from the file's name: whatever the client named it, it becomes a valid key.</summary>
    private string KeyFromFileName(string? fileName)
    {
        var name = new string(Path.GetFileName(fileName ?? "").Where(c => !char.IsControl(c)).ToArray()).Trim();
        return name.Length == 0 ? "video" : name[..Math.Min(name.Length, _options.MaxKeyLength)];
    }

    /// <summary>Digits only: int.TryParse alone would take "1\0" (it ignores trailing NULs) or "+1".</summary>
    private static int ParsePriority(string value)
    {
        var text = value.Trim();
        return text.Length > 0 && text.All(char.IsAsciiDigit) && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var priority)
               && priority <= Stages.MaxPriority
            ? priority
            : throw new UploadRejection(400, "Invalid priority", $"'priority' must be a whole number from 0 to {Stages.MaxPriority}.");
    }

    private static UploadRejection Repeated(string field) => new(400, $"Invalid {field}", $"Send at most one '{field}' field.");
}
