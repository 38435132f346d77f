using Vidline.Contracts;
using Vidline.ProgressGateway.Access;
using Vidline.ProgressGateway.Operations;
using Vidline.ProgressGateway.Streaming;
using Vidline.ServiceDefaults;
using Vidline.ServiceDefaults.Tenancy;

namespace Vidline.ProgressGateway.Apis;

/// <summary>GET /progress/stats.</summary>
/// <param name="Running">The caller's jobs being worked on and the node working on each (the same on every instance).</param>
public sealed record ProgressStats(string InstanceId, ConnectedClients ConnectedClients, double EventsPerSecond, long EventsStoredTotal,
    IReadOnlyList<RunningJob> Running);

/// <summary>SSE clients of this instance: all of them, on one job's stream, on the all-jobs stream.</summary>
public sealed record ConnectedClients(int Total, int Job, int All);

/// <summary>Every job's events on one connection, and this instance's counters.</summary>
public static class ProgressApi
{
    public static IEndpointRouteBuilder MapProgressApi(this IEndpointRouteBuilder app)
    {
        var progress = app.MapGroup("/progress");
        progress.MapGet("/stream", Stream).RequireStreamAccess().LimitedAsStream()
            .WithSummary("Every job's events (Server-Sent Events)")
            .WithDescription("The caller's jobs only: optionally only jobs in one status, or the listed job ids (another " +
                             "tenant's ids are accepted and never shown, like ids of jobs that do not exist yet); never ends on a job's done. " + StreamAccess.Description)
            .ProducesEventStream().ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status401Unauthorized, StatusCodes.Status503ServiceUnavailable);
        progress.MapGet("/stats", Stats)
            .WithSummary("This gateway instance's counters")
            .Produces<ProgressStats>().ProducesProblems(StatusCodes.Status401Unauthorized, StatusCodes.Status503ServiceUnavailable);
        return app;
    }

    /// <param name="status">Only events of jobs currently in this status.</param>
    /// <param name="jobs">Comma-separated job ids.</param>
    private static async Task<IResult> Stream(string? status, string? jobs, HttpContext http, EventStreams streams, CancellationToken ct)
    {
        if (status is not null && status != JobStatuses.Pending && status != JobStatuses.Processing && !JobStatuses.IsFinal(status))
            return JobsApi.BadRequest($"Unknown status '{status}'.");

        HashSet<Guid>? jobIds = null;
        if (!string.IsNullOrWhiteSpace(jobs))
        {
            jobIds = [];
            foreach (var part in jobs.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!Guid.TryParse(part, out var jobId)) return JobsApi.MalformedId(part);
                jobIds.Add(jobId);
            }
        }
        if (!LastEventId.TryRead(http.Request, out var after)) return JobsApi.BadRequest(LastEventId.Malformed);
        // A token scoped to jobs shows only those, whatever ?jobs= asks for.
        return await streams.ForManyAsync(http.User.Narrow(new EventFilter(jobIds, status, http.Tenant())), after, ct);
    }

    /// <remarks>Counters are totals of this instance; the running jobs are only the caller's.</remarks>
    private static async Task<IResult> Stats(HttpContext http, LiveFeed feed, GatewayStats stats, WorkingNodes nodes, CancellationToken ct) =>
        TypedResults.Ok(new ProgressStats(
            stats.InstanceId,
            new ConnectedClients(feed.Count, feed.CountScope(EventStreams.JobScope), feed.CountScope(EventStreams.AllScope)),
            stats.EventsPerSecond,
            stats.EventsStoredTotal,
            await nodes.ListAsync(http.Tenant(), ct)));
}
