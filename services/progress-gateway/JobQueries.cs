using System.Buffers.Text;
using System.Text;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using Vidline.ProgressGateway.Access;

namespace Vidline.ProgressGateway;

/// <summary>Reads of the <c>jobs</c> table for the API and for stream snapshots.</summary>
public sealed class JobQueries(NpgsqlDataSource dataSource, OutputLinks links)
{
    private const string JobColumns = """
        j.id, j.key, j.owner, j.status, j.stage, j.progress, j.priority, j.run, j.attempt,
        j.created_at, j.updated_at, j.completed_at, j.error_message, j.result::text
        """;

    /// <summary>
    /// Events a fresh stream's snapshots reflect beyond its starting id are not sent again, up to this many (more only
    /// while a long transaction holds the horizon back; beyond it the client gets the rest again, which a snapshot absorbs).
    /// </summary>
    private const int ReflectedLimit = 1000;

    private const string LatestEvents = """
        (SELECT COALESCE(json_agg(x ORDER BY x.id DESC), '[]')::text FROM (
            SELECT id, type, stage, progress, message, created_at FROM progress_events
            WHERE job_id = j.id ORDER BY id DESC LIMIT 10) x)
        """;

    /// <summary>The job with its latest events, or null when it does not exist or belongs to another tenant than <paramref name="owner"/>.</summary>
    public async Task<JobSnapshot?> SnapshotAsync(Guid id, string owner, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"""
            SELECT {JobColumns}, {LatestEvents}, ev.before_done_id, ev.done_id
            FROM jobs j
            CROSS JOIN LATERAL (
                SELECT max(e.id) FILTER (WHERE NOT (e.type = 'done' AND e.run = j.run)) AS before_done_id,
                       max(e.id) FILTER (WHERE e.type = 'done' AND e.run = j.run) AS done_id
                FROM progress_events e WHERE e.job_id = j.id) ev
            WHERE j.id = @id AND j.owner = @owner
            """);
        command.Parameters.AddWithValue("id", id);
        command.Parameters.AddWithValue("owner", owner);
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct)) return null;
        var job = ReadJob(reader) with { LatestEvents = ReadEvents(reader.GetString(14)) };
        return new JobSnapshot(job, NullableLong(reader, 15), NullableLong(reader, 16));
    }

    /// <summary>
    /// The newest jobs matching a filter, handed to <paramref name="take"/> one at a time as they are read, until it
    /// declines one (its budget is spent). A fresh all-jobs stream sends them as snapshots and continues from
    /// <c>Latest</c>, the newest event id below the horizon at that same instant: every event up to it is reflected
    /// in the rows read. So are the filter's events above it that were already visible (<c>Reflected</c>, up to
    /// <see cref="ReflectedLimit"/>, in ascending order): the stream does not send those again.
    /// </summary>
    public async Task<(long Latest, long[] Reflected)> SnapshotsAsync(EventFilter filter, int limit, Func<JobView, bool> take,
        CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"""
            WITH horizon AS MATERIALIZED (SELECT {EventOrder.Horizon} AS id),
            latest AS (SELECT COALESCE(max(e.id), 0) AS id FROM progress_events e WHERE e.id < (SELECT id FROM horizon)),
            reflected AS (SELECT array(
                SELECT e.id FROM progress_events e JOIN jobs j ON j.id = e.job_id
                WHERE e.id >= (SELECT id FROM horizon) AND {EventFilter.Sql} ORDER BY e.id LIMIT {ReflectedLimit}) AS ids)
            SELECT latest.id, reflected.ids, picked.* FROM latest CROSS JOIN reflected LEFT JOIN LATERAL (
                SELECT {JobColumns}, {LatestEvents} FROM jobs j
                WHERE {EventFilter.Sql}
                ORDER BY j.created_at DESC, j.id DESC LIMIT @limit) picked ON true
            """);
        EventFilter.AddTo(command, filter);
        command.Parameters.AddWithValue("limit", limit);
        await using var reader = await command.ExecuteReaderAsync(ct);
        long latest = 0;
        long[] reflected = [];
        while (await reader.ReadAsync(ct))
        {
            latest = reader.GetInt64(0);
            reflected = reader.GetFieldValue<long[]>(1);
            if (reader.IsDBNull(2)) continue;
            if (!take(ReadJob(reader, offset: 2) with { LatestEvents = ReadEvents(reader.GetString(16)) })) break;
        }
        return (latest, reflected);
    }

    /// <summary>A page of <paramref name="owner"/>'s jobs, newest first.</summary>
    public async Task<JobPage> ListAsync(string owner, string? status, int limit, JobCursor? cursor, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"""
            SELECT {JobColumns} FROM jobs j
            WHERE j.owner = @owner AND (@status::text IS NULL OR j.status = @status)
              AND (@after_at::timestamptz IS NULL OR (j.created_at, j.id) < (@after_at, @after_id))
            ORDER BY j.created_at DESC, j.id DESC
            LIMIT @limit
            """);
        command.Parameters.AddWithValue("owner", owner);
        command.Parameters.Add(new NpgsqlParameter("status", NpgsqlDbType.Text) { Value = (object?)status ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("after_at", NpgsqlDbType.TimestampTz) { Value = (object?)cursor?.CreatedAt ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("after_id", NpgsqlDbType.Uuid) { Value = (object?)cursor?.Id ?? Guid.Empty });
        command.Parameters.AddWithValue("limit", limit + 1); // one extra tells whether another page exists
        await using var reader = await command.ExecuteReaderAsync(ct);
        var items = new List<JobView>();
        while (await reader.ReadAsync(ct)) items.Add(ReadJob(reader));
        if (items.Count <= limit) return new JobPage(items, null);
        items.RemoveAt(limit);
        var last = items[^1];
        return new JobPage(items, new JobCursor(last.CreatedAt.UtcDateTime, last.Id).Encode());
    }

    /// <summary>A job row as the API shows it: its output paths signed (<see cref="OutputLinks"/>).</summary>
    private JobView ReadJob(NpgsqlDataReader r, int offset = 0) => new(
        r.GetGuid(offset),
        r.GetString(offset + 1),
        r.GetString(offset + 2),
        r.GetString(offset + 3),
        r.GetString(offset + 4),
        (double)r.GetDecimal(offset + 5),
        r.GetInt32(offset + 6),
        r.GetInt32(offset + 7),
        r.GetInt32(offset + 8),
        r.GetFieldValue<DateTimeOffset>(offset + 9),
        r.GetFieldValue<DateTimeOffset>(offset + 10),
        r.IsDBNull(offset + 11) ? null : r.GetFieldValue<DateTimeOffset>(offset + 11),
        r.IsDBNull(offset + 12) ? null : r.GetString(offset + 12),
        r.IsDBNull(offset + 13) ? null : JsonDocument.Parse(links.SignAll(r.GetString(offset + 13), r.GetGuid(offset))).RootElement.Clone());

    private static IReadOnlyList<EventSummary> ReadEvents(string json) =>
        JsonSerializer.Deserialize<List<EventSummary>>(json, ServiceDefaults.ServiceDefaults.ApiJson) ?? [];

    private static long? NullableLong(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetInt64(i);
}

/// <summary>Position in the newest-first job list. Opaque to clients: base64url of "ticks:id".</summary>
public sealed record JobCursor(DateTime CreatedAt, Guid Id)
{
    public string Encode() => Base64Url.EncodeToString(Encoding.UTF8.GetBytes($"{CreatedAt.Ticks}:{Id:N}"));

    public static bool TryDecode(string? text, out JobCursor? cursor)
    {
        cursor = null;
        if (string.IsNullOrEmpty(text)) return true;
        try
        {
            var parts = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(text)).Split(':');
            if (parts.Length != 2 || !long.TryParse(parts[0], out var ticks) || !Guid.TryParse(parts[1], out var id)
                || ticks < DateTime.MinValue.Ticks || ticks > DateTime.MaxValue.Ticks) return false;
            cursor = new JobCursor(new DateTime(ticks, DateTimeKind.Utc), id);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
