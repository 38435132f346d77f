using Npgsql;
using Vidline.Contracts;

namespace Vidline.ProgressGateway.Operations;

/// <summary>A job being worked on now, and the node (process) whose progress it last reported.</summary>
public sealed record RunningJob(Guid JobId, string Stage, string? Node, DateTimeOffset ReportedAt);

/// <summary>
/// Which node runs which job: each processing job's newest progress event of its current stage names the node
/// (<see cref="ProgressReported.Node"/>, stored in the event's data). Read from the database, so every gateway
/// instance gives the same answer.
/// </summary>
public sealed class WorkingNodes(NpgsqlDataSource dataSource)
{
    private const int Limit = 200;

    public async Task<IReadOnlyList<RunningJob>> ListAsync(string owner, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"""
            SELECT j.id, j.stage, e.data->>'node', e.created_at
            FROM jobs j
            CROSS JOIN LATERAL (
                SELECT data, created_at FROM progress_events p
                WHERE p.job_id = j.id AND p.run = j.run AND p.type = 'progress' AND p.stage = j.stage
                ORDER BY p.id DESC LIMIT 1) e
            WHERE j.status = @processing AND j.owner = @owner
            ORDER BY j.created_at
            LIMIT {Limit}
            """);
        command.Parameters.AddWithValue("processing", JobStatuses.Processing);
        command.Parameters.AddWithValue("owner", owner);
        var running = new List<RunningJob>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            running.Add(new RunningJob(reader.GetGuid(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                reader.GetFieldValue<DateTimeOffset>(3)));
        return running;
    }
}
