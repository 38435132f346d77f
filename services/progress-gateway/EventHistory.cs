using Npgsql;
using NpgsqlTypes;

namespace Vidline.ProgressGateway;

/// <summary>
/// Reads stored events in id order: for the tailer (everything) and for replay (one client's filter). A read of one
/// job goes up to its newest event; any wider read stops at the <see cref="EventOrder.Horizon"/>, below which no id
/// can appear any more.
/// </summary>
public sealed class EventHistory(NpgsqlDataSource dataSource)
{
    /// <summary>
    /// Events after <c>@after</c> that a filter (<c>@jobs</c>, <c>@status</c>, <c>@owner</c>; null means any) lets
    /// through, below the horizon unless <c>@one_job</c>.
    /// </summary>
    private const string After = $"""
        FROM progress_events e JOIN jobs j ON j.id = e.job_id
        WHERE e.id > @after
          AND (@one_job OR e.id < {EventOrder.Horizon})
          AND (@jobs::uuid[] IS NULL OR e.job_id = ANY (@jobs))
          AND (@status::text IS NULL OR j.status = @status)
          AND (@owner::text IS NULL OR j.owner = @owner)
        """;

    /// <summary>The newest id below the horizon (0 when there is none): where a reader of every job may start.</summary>
    public async Task<long> LatestIdAsync(CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"SELECT COALESCE(max(id), 0) FROM progress_events WHERE id < {EventOrder.Horizon}");
        return Convert.ToInt64(await command.ExecuteScalarAsync(ct));
    }

    /// <summary>
    /// Whether an event is stored at or above the horizon: committed, but not yet readable by a reader of every job
    /// because an older transaction is still running.
    /// </summary>
    public async Task<bool> HeldBackAsync(CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"SELECT EXISTS (SELECT 1 FROM progress_events WHERE id >= {EventOrder.Horizon})");
        return (bool)(await command.ExecuteScalarAsync(ct))!;
    }

    /// <summary>
    /// The history a client can resume in: the oldest and newest ids stored (0 and 0 when there are none), and the
    /// newest id the store has forgotten (an expired job's; 0 when none): a client behind it may have lost events.
    /// </summary>
    public async Task<(long Oldest, long Newest, long Forgotten)> RetainedAsync(CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT COALESCE(min(id), 0), COALESCE(max(id), 0), (SELECT forgotten_upto FROM event_retention) FROM progress_events
            """);
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
    }

    public async Task<IReadOnlyList<StoredEvent>> ReadAfterAsync(long afterId, EventFilter? filter, int limit, CancellationToken ct)
    {
        await using var command = Command($"""
            SELECT e.id, e.job_id, e.run, e.type, e.data::text, j.status, j.owner
            {After}
            ORDER BY e.id
            LIMIT @limit
            """, afterId, filter);
        command.Parameters.AddWithValue("limit", limit);

        var events = new List<StoredEvent>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            events.Add(new StoredEvent(reader.GetInt64(0), reader.GetGuid(1), reader.GetInt32(2), reader.GetString(3), reader.GetString(4), reader.GetString(5), reader.GetString(6)));
        return events;
    }

    /// <summary>
    /// Whether the events after <paramref name="afterId"/> that <paramref name="filter"/> lets through carry more
    /// than <paramref name="maxBytes"/> of data. The running sum stops at the first row beyond the limit, so the
    /// check costs no more than a replay that fits.
    /// </summary>
    public async Task<bool> ExceedsAsync(long afterId, EventFilter filter, long maxBytes, CancellationToken ct)
    {
        await using var command = Command($"""
            SELECT EXISTS (
                SELECT 1 FROM (SELECT sum(octet_length(e.data::text)) OVER (ORDER BY e.id) AS upto {After} ORDER BY e.id) x
                WHERE x.upto > @max)
            """, afterId, filter);
        command.Parameters.AddWithValue("max", maxBytes);
        return (bool)(await command.ExecuteScalarAsync(ct))!;
    }

    private NpgsqlCommand Command(string sql, long afterId, EventFilter? filter)
    {
        var command = dataSource.CreateCommand(sql);
        command.Parameters.AddWithValue("after", afterId);
        command.Parameters.AddWithValue("one_job", filter?.Jobs is { Count: 1 });
        command.Parameters.Add(new NpgsqlParameter("jobs", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { Value = (object?)filter?.Jobs?.ToArray() ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("status", NpgsqlDbType.Text) { Value = (object?)filter?.Status ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("owner", NpgsqlDbType.Text) { Value = (object?)filter?.Owner ?? DBNull.Value });
        return command;
    }
}
