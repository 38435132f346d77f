using Vidline.Contracts;
using Vidline.ProgressGateway.Streaming;

namespace Vidline.ProgressGateway.Apis;

/// <summary>Every job's events on one connection, and this instance's counters.</summary>
public static class ProgressApi
{
    public static IEndpointRouteBuilder MapProgressApi(this IEndpointRouteBuilder app)
    {
        var progress = app.MapGroup("/progress");
        progress.MapGet("/stream", Stream);
        progress.MapGet("/stats", Stats);
        return app;
    }

    /// <param name="status">Only events of jobs currently in this status.</param>
    /// <param name="jobs">Comma-separated job ids.</param>
    private static async Task<IResult> Stream(string? status, string? jobs, HttpRequest request, EventStreams streams, CancellationToken ct)
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
        return await streams.ForManyAsync(new EventFilter(jobIds, status), LastEventId.From(request), ct);
    }

    private static IResult Stats(LiveFeed feed, GatewayStats stats) => TypedResults.Ok(new
    {
        instance_id = stats.InstanceId,
        connected_clients = new
        {
            total = feed.Count,
            job = feed.CountScope(EventStreams.JobScope),
            all = feed.CountScope(EventStreams.AllScope),
        },
        events_per_second = stats.EventsPerSecond,
        events_stored_total = stats.EventsStoredTotal,
    });
}
