using MassTransit;
using Vidline.Contracts;
using Vidline.IngestApi.Uploads;
using Vidline.ServiceDefaults;
using Vidline.ServiceDefaults.Limits;
using Vidline.ServiceDefaults.Tenancy;

namespace Vidline.IngestApi.Apis;

/// <summary>The write side of the public API: submit a video, cancel or retry a job. Reads are the gateway's.</summary>
public static class IngestApi
{
    public static IEndpointRouteBuilder MapIngestApi(this IEndpointRouteBuilder app)
    {
        var process = app.MapPost("/process", Process).DisableAntiforgery().RequireRateLimiting(TenantRateLimits.JobCreation);
        process.DisableRequestTimeout(); // an upload lasts as long as its file takes to arrive
        process
            .WithSummary("Submit a video")
            .WithDescription("Streams the upload to storage and answers 202 once the file is in and ffprobe accepted it. " +
                             "An Idempotency-Key header (per tenant) makes a repeated request answer with the job it created; " +
                             "the same key sent with a different request is refused with 422.")
            .AddOpenApiOperationTransformer(UploadForm.DescribeAsync)
            .Produces<JobAccepted>(StatusCodes.Status202Accepted)
            .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status401Unauthorized, StatusCodes.Status408RequestTimeout, StatusCodes.Status409Conflict,
                StatusCodes.Status413PayloadTooLarge, StatusCodes.Status415UnsupportedMediaType, StatusCodes.Status422UnprocessableEntity,
                StatusCodes.Status429TooManyRequests, StatusCodes.Status503ServiceUnavailable, StatusCodes.Status507InsufficientStorage);
        var job = app.MapGroup("/jobs/{id}");
        job.MapPost("/cancel", Cancel)
            .WithSummary("Cancel a job").WithDescription("Stops the job's work and removes its files.")
            .Produces<JobCommandReply>(StatusCodes.Status202Accepted)
            .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status401Unauthorized, StatusCodes.Status404NotFound, StatusCodes.Status409Conflict, StatusCodes.Status410Gone,
                StatusCodes.Status503ServiceUnavailable);
        job.MapPost("/retry", Retry)
            .WithSummary("Retry a failed job").WithDescription("Starts a new run at the stage that failed.")
            .Produces<JobCommandReply>(StatusCodes.Status202Accepted)
            .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status401Unauthorized, StatusCodes.Status404NotFound, StatusCodes.Status409Conflict, StatusCodes.Status410Gone,
                StatusCodes.Status503ServiceUnavailable);
        return app;
    }

    /// <summary>POST /process: multipart fields <c>video</c> (file), <c>key</c>, <c>priority</c> (0–9).</summary>
    public static async Task<IResult> Process(HttpContext http, UploadReceiver receiver, IdempotencyKeys idempotencyKeys,
        LinkGenerator links)
    {
        var owner = http.Tenant();
        var jobId = NewId.NextGuid();
        var idempotencyKey = http.Request.Headers["Idempotency-Key"].ToString();
        // The IETF draft makes the key a structured-field string: printable ASCII only.
        if (idempotencyKey.Length > 200 || idempotencyKey.Any(c => c is < ' ' or > '~'))
            return Problem(400, "Invalid Idempotency-Key", "Idempotency-Key must be at most 200 printable ASCII characters.");
        if (idempotencyKey.Length > 0)
        {
            var claim = await idempotencyKeys.ClaimAsync(owner, idempotencyKey, IdempotencyKeys.Fingerprint(http.Request), jobId,
                http.RequestAborted);
            if (claim.JobId != jobId)
            {
                if (!claim.SameRequest)
                    return Problem(422, "Idempotency-Key reused", "Idempotency-Key was used for a different request.");
                http.Response.Headers["Idempotent-Replayed"] = "true";
                return Accepted(claim.JobId, "This Idempotency-Key was used before: here is the job it created.");
            }
        }
        try
        {
            var upload = await receiver.ReceiveAsync(http.Request, jobId, owner, http.RequestAborted);
            return Accepted(upload.JobId, $"Accepted '{upload.Key}'; follow its progress at /jobs/{upload.JobId}/stream");
        }
        catch (UploadRejection rejection)
        {
            // The key may be used again when its upload never became a working job: refused, cut short, too large, no room,
            // or the service unavailable. Only unusable media (422) keeps it: the same file would fail the same way.
            if (idempotencyKey.Length > 0 && rejection.StatusCode != StatusCodes.Status422UnprocessableEntity)
                await idempotencyKeys.ReleaseAsync(owner, idempotencyKey, jobId);
            // A job id only for a job that exists (and failed): a field refused before the video gets none.
            return Problem(rejection.StatusCode, rejection.Title, rejection.Detail, rejection.JobCreated ? jobId : null);
        }
    }

    public static Task<IResult> Cancel(string id, HttpContext http, IRequestClient<CancelJob> saga) =>
        AskSagaAsync(id, http, saga, jobId => new CancelJob(jobId, http.Tenant()));

    public static Task<IResult> Retry(string id, HttpContext http, IRequestClient<RetryJob> saga) =>
        AskSagaAsync(id, http, saga, jobId => new RetryJob(jobId, http.Tenant()));

    /// <summary>The saga decides whether a cancel or retry applies; this turns its answer into HTTP.</summary>
    private static async Task<IResult> AskSagaAsync<T>(string id, HttpContext http, IRequestClient<T> saga, Func<Guid, T> request)
        where T : class, IJobRequest
    {
        if (!Guid.TryParse(id, out var jobId)) return Problem(400, "Invalid job id", $"'{id}' is not a job id.");
        var answer = await saga.GetResponse<JobCommandAccepted, JobCommandRefused>(request(jobId), http.RequestAborted);
        if (answer.Is(out Response<JobCommandAccepted>? accepted))
            return Results.Accepted($"/jobs/{jobId}", new JobCommandReply(jobId, accepted.Message.Message));
        answer.Is(out Response<JobCommandRefused>? refusal);
        var refused = refusal!.Message;
        return refused.Reason switch
        {
            RefusalReasons.NotFound => Problem(404, "Job not found", refused.Detail),
            RefusalReasons.Expired => Problem(410, "Job expired", refused.Detail, jobId),
            _ => Problem(409, "Not possible in the job's state", refused.Detail, jobId),
        };
    }

    private static IResult Accepted(Guid jobId, string message) =>
        Results.Accepted($"/jobs/{jobId}", new JobAccepted(jobId, message, $"/jobs/{jobId}", $"/jobs/{jobId}/stream"));

    private static IResult Problem(int status, string title, string detail, Guid? jobId = null) =>
        Results.Problem(statusCode: status, title: title, detail: detail,
            extensions: jobId is null ? null : new Dictionary<string, object?> { ["job_id"] = jobId });
}
