using Npgsql;
using NpgsqlTypes;

namespace Vidline.ProgressGateway;

/// <summary>Reads stored events in id order: for the tailer (everything) and for replay (one client's filter).</summary>
public sealed class EventHistory(NpgsqlDataSource dataSource)
{
    /// <summary>Events after <c>@after</c> that a filter (<c>@jobs</c>, <c>@status</c>, <c>@owner</c>; null means any) lets through.</summary>
    private const string After = """
        FROM progress_events e JOIN jobs j ON j.id = e.job_id
        WHERE e.id > @after
          AND (@jobs::uuid[] IS NULL OR e.job_id = ANY (@jobs))
          AND (@status::text IS NULL OR j.status = @status)
          AND (@owner::text IS NULL OR j.owner = @owner)
        """;

    public async Task<long> LatestIdAsync(CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("SELECT COALESCE(max(id), 0) FROM progress_events");
        return Convert.ToInt64(await command.ExecuteScalarAsync(ct));
    }

    /// <summary>The oldest and newest ids stored (0 and 0 when there are none): the history a client can resume in.</summary>
    public async Task<(long Oldest, long Newest)> RetainedAsync(CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("SELECT COALESCE(min(id), 0), COALESCE(max(id), 0) FROM progress_events");
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return (reader.GetInt64(0), reader.GetInt64(1));
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
        command.Parameters.Add(new NpgsqlParameter("jobs", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { Value = (object?)filter?.Jobs?.ToArray() ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("status", NpgsqlDbType.Text) { Value = (object?)filter?.Status ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("owner", NpgsqlDbType.Text) { Value = (object?)filter?.Owner ?? DBNull.Value });
        return command;
    }
}
