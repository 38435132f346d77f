using MassTransit;
using Vidline.Contracts;
using Vidline.IngestApi.Jobs;
using Vidline.IngestApi.Persistence;
using Vidline.IngestApi.Uploads;

namespace Vidline.IngestApi.Apis;

/// <summary>The write side of the public API: submit a video, cancel or retry a job. Reads are the gateway's.</summary>
public static class IngestApi
{
    public static IEndpointRouteBuilder MapIngestApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/process", Process).DisableAntiforgery();
        var job = app.MapGroup("/jobs/{id}");
        job.MapPost("/cancel", Cancel);
        job.MapPost("/retry", Retry);
        return app;
    }

    /// <summary>POST /process: multipart fields <c>video</c> (file), <c>key</c>, <c>priority</c> (0–9).</summary>
    public static async Task<IResult> Process(HttpContext http, UploadReceiver receiver, IdempotencyKeys idempotencyKeys,
        LinkGenerator links)
    {
        var owner = JobOwner.Of(http);
        var jobId = NewId.NextGuid();
        var idempotencyKey = http.Request.Headers["Idempotency-Key"].ToString();
        if (idempotencyKey.Length > 200)
            return Problem(400, "Invalid Idempotency-Key", "Idempotency-Key may be at most 200 characters.");
        if (idempotencyKey.Length > 0)
        {
            var existing = await idempotencyKeys.ClaimAsync(owner, idempotencyKey, jobId, http.RequestAborted);
            if (existing != jobId)
            {
                http.Response.Headers["Idempotent-Replayed"] = "true";
                return Accepted(existing, "This Idempotency-Key was used before: here is the job it created.");
            }
        }
        try
        {
            var upload = await receiver.ReceiveAsync(http.Request, jobId, owner, http.RequestAborted);
            return Accepted(upload.JobId, $"Accepted '{upload.Key}'; follow its progress at /jobs/{upload.JobId}/stream");
        }
        catch (UploadRejection rejection)
        {
            if (idempotencyKey.Length > 0 && rejection.StatusCode is 400 or 415)
                await idempotencyKeys.ReleaseAsync(owner, idempotencyKey, jobId);
            return Problem(rejection.StatusCode, rejection.Title, rejection.Detail, jobId);
        }
    }

    public static async Task<IResult> Cancel(string id, HttpContext http, SagaTable<VideoJobState> sagas,
        VideoJobStateMachine machine, IPublishEndpoint publisher)
    {
        var (job, problem) = await FindOwnJobAsync(id, http, sagas);
        if (job is null) return problem!;
        if (job.CurrentState == machine.Completed.Name || job.CurrentState == machine.Failed.Name || job.CurrentState == machine.Cancelled.Name)
            return Problem(409, "Job already finished", $"Job {job.CorrelationId} is {job.CurrentState.ToLowerInvariant()}; only a running job can be cancelled.", job.CorrelationId);
        await publisher.Publish(new CancelJob(job.CorrelationId, JobOwner.Of(http)), http.RequestAborted);
        return Results.Accepted($"/jobs/{job.CorrelationId}", new { job_id = job.CorrelationId, message = "Cancellation requested." });
    }

    public static async Task<IResult> Retry(string id, HttpContext http, SagaTable<VideoJobState> sagas,
        VideoJobStateMachine machine, IPublishEndpoint publisher)
    {
        var (job, problem) = await FindOwnJobAsync(id, http, sagas);
        if (job is null) return problem!;
        if (job.CurrentState != machine.Failed.Name)
            return Problem(409, "Job has not failed", $"Job {job.CorrelationId} is {job.CurrentState.ToLowerInvariant()}; only a failed job can be retried.", job.CorrelationId);
        if (job.SourceKey is null)
            return Problem(409, "Nothing to retry", $"Job {job.CorrelationId} failed during upload: submit the video again.", job.CorrelationId);
        await publisher.Publish(new RetryJob(job.CorrelationId, JobOwner.Of(http)), http.RequestAborted);
        return Results.Accepted($"/jobs/{job.CorrelationId}", new { job_id = job.CorrelationId, message = $"Retrying from {job.Stage}." });
    }

    /// <summary>The caller's job named by <paramref name="id"/>, or the problem (400 malformed, 404 unknown or someone else's).</summary>
    private static async Task<(VideoJobState? Job, IResult? Problem)> FindOwnJobAsync(string id, HttpContext http, SagaTable<VideoJobState> sagas)
    {
        if (!Guid.TryParse(id, out var jobId)) return (null, Problem(400, "Invalid job id", $"'{id}' is not a job id."));
        var job = await sagas.LoadAsync(jobId, http.RequestAborted);
        return job is null || job.Owner != JobOwner.Of(http)
            ? (null, Problem(404, "Job not found", $"There is no job {jobId}."))
            : (job, null);
    }

    private static IResult Accepted(Guid jobId, string message) =>
        Results.Accepted($"/jobs/{jobId}", new { job_id = jobId, message, status_url = $"/jobs/{jobId}", stream_url = $"/jobs/{jobId}/stream" });

    private static IResult Problem(int status, string title, string detail, Guid? jobId = null) =>
        Results.Problem(statusCode: status, title: title, detail: detail,
            extensions: jobId is null ? null : new Dictionary<string, object?> { ["job_id"] = jobId });
}

/// <summary>Who a job belongs to. Until API keys arrive every caller is the same tenant.</summary>
public static class JobOwner
{
    public const string Anonymous = "anonymous";

    public static string Of(HttpContext http) => http.User.Identity?.Name ?? Anonymous;
}
