using Npgsql;
using NpgsqlTypes;

namespace Vidline.ProgressGateway;

/// <summary>Reads stored events in id order: for the tailer (everything) and for replay (one client's filter).</summary>
public sealed class EventHistory(NpgsqlDataSource dataSource)
{
    public async Task<long> LatestIdAsync(CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("SELECT COALESCE(max(id), 0) FROM progress_events");
        return Convert.ToInt64(await command.ExecuteScalarAsync(ct));
    }

    public async Task<IReadOnlyList<StoredEvent>> ReadAfterAsync(long afterId, EventFilter? filter, int limit, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT e.id, e.job_id, e.run, e.type, e.data::text, j.status
            FROM progress_events e JOIN jobs j ON j.id = e.job_id
            WHERE e.id > @after
              AND (@jobs::uuid[] IS NULL OR e.job_id = ANY (@jobs))
              AND (@status::text IS NULL OR j.status = @status)
            ORDER BY e.id
            LIMIT @limit
            """);
        command.Parameters.AddWithValue("after", afterId);
        command.Parameters.Add(new NpgsqlParameter("jobs", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { Value = (object?)filter?.Jobs?.ToArray() ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("status", NpgsqlDbType.Text) { Value = (object?)filter?.Status ?? DBNull.Value });
        command.Parameters.AddWithValue("limit", limit);

        var events = new List<StoredEvent>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            events.Add(new StoredEvent(reader.GetInt64(0), reader.GetGuid(1), reader.GetInt32(2), reader.GetString(3), reader.GetString(4), reader.GetString(5)));
        return events;
    }
}
