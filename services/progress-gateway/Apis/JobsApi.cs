using Vidline.Contracts;
using Vidline.ProgressGateway.Access;
using Vidline.ProgressGateway.Streaming;
using Vidline.ServiceDefaults;
using Vidline.ServiceDefaults.Tenancy;

namespace Vidline.ProgressGateway.Apis;

/// <summary>Reading jobs: one, a page of them, and one job's live event stream.</summary>
public static class JobsApi
{
    private const int DefaultLimit = 50;
    private const int MaxLimit = 200;

    public static IEndpointRouteBuilder MapJobsApi(this IEndpointRouteBuilder app)
    {
        var jobs = app.MapGroup("/jobs");
        jobs.MapGet("/", List)
            .WithSummary("List jobs").WithDescription("Newest first, a page at a time: pass next_cursor back as cursor.")
            .Produces<JobPage>().ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status401Unauthorized, StatusCodes.Status503ServiceUnavailable);
        jobs.MapGet("/{id}", Get).ServesPageToBrowsers()
            .WithSummary("A job's status, progress and result")
            .Produces<JobView>().ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status401Unauthorized, StatusCodes.Status404NotFound,
                StatusCodes.Status503ServiceUnavailable);
        jobs.MapGet("/{id}/stream", Stream).RequireStreamAccess().LimitedAsStream()
            .WithSummary("A job's events (Server-Sent Events)")
            .WithDescription("status, stage, progress, warning and done events; ends after the current run's done. " +
                             "Resume with the Last-Event-ID header (or ?lastEventId=), an id a stream sent (anything else is 400); 204 when there " +
                             "is nothing left to send. " +
                             StreamAccess.Description)
            .ProducesEventStream().Produces(StatusCodes.Status204NoContent)
            .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status401Unauthorized, StatusCodes.Status404NotFound,
                StatusCodes.Status503ServiceUnavailable);
        return app;
    }

    /// <remarks>Another tenant's job is answered exactly like one that does not exist.</remarks>
    private static async Task<IResult> Get(string id, HttpContext http, JobQueries queries, CancellationToken ct)
    {
        if (!Guid.TryParse(id, out var jobId)) return MalformedId(id);
        var snapshot = await queries.SnapshotAsync(jobId, http.Tenant(), ct);
        return snapshot is null ? NotFound(jobId) : TypedResults.Ok(snapshot.Job);
    }

    private static async Task<IResult> List(string? status, int? limit, string? cursor, HttpContext http, JobQueries queries, CancellationToken ct)
    {
        if (status is not null && !JobStatuses.All.Contains(status))
            return BadRequest($"Unknown status '{status}'. Expected one of: {string.Join(", ", JobStatuses.All)}.");
        if (limit is < 1 or > MaxLimit) return BadRequest($"limit must be between 1 and {MaxLimit}.");
        if (!JobCursor.TryDecode(cursor, out var position)) return BadRequest("The cursor is not one this API issued.");
        return TypedResults.Ok(await queries.ListAsync(http.Tenant(), status, limit ?? DefaultLimit, position, ct));
    }

    private static async Task<IResult> Stream(string id, HttpContext http, EventStreams streams, CancellationToken ct)
    {
        if (!Guid.TryParse(id, out var jobId)) return MalformedId(id);
        // A token scoped to other jobs opens this one no more than a job that does not exist.
        if (!http.User.MaySee(jobId)) return NotFound(jobId);
        if (!LastEventId.TryRead(http.Request, out var after)) return BadRequest(LastEventId.Malformed);
        return await streams.ForJobAsync(jobId, http.Tenant(), after, ct);
    }

    internal static IResult MalformedId(string id) => BadRequest($"'{id}' is not a job id (expected a UUID).");

    private static IResult NotFound(Guid id) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Job not found", detail: $"There is no job {id}.");

    internal static IResult BadRequest(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Bad request", detail: detail);
}
