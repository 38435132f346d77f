using Npgsql;
using NpgsqlTypes;

namespace Vidline.ProgressGateway;

/// <summary>
/// Reads stored events in id order: for the tailer (everything) and for replay (one client's filter). A read of one
/// job goes up to its newest event; any wider read stops at the <see cref="EventOrder.Horizon"/>, below which no id
/// can appear any more. The tailer also reads past the horizon, for streams of one job (<see cref="ReadPastHorizonAsync"/>).
/// </summary>
public sealed class EventHistory(NpgsqlDataSource dataSource)
{
    /// <summary>
    /// Events after <c>@after</c> that a filter (<see cref="EventFilter.Sql"/>) lets through, below the horizon unless
    /// <c>@one_job</c>.
    /// </summary>
    private const string After = $"""
        FROM progress_events e JOIN jobs j ON j.id = e.job_id
        WHERE e.id > @after
          AND (@one_job OR e.id < {EventOrder.Horizon})
          AND {EventFilter.Sql}
        """;

    private const string Columns = "e.id, e.job_id, e.run, e.type, e.data::text, j.status, j.owner";

    /// <summary>The newest id below the horizon (0 when there is none): where a reader of every job may start.</summary>
    public async Task<long> LatestIdAsync(CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"SELECT COALESCE(max(id), 0) FROM progress_events WHERE id < {EventOrder.Horizon}");
        return Convert.ToInt64(await command.ExecuteScalarAsync(ct));
    }

    /// <summary>
    /// Why new events would not sort after the stored ones, or null when they will. Ids come from transaction ids
    /// (<see cref="EventOrder"/>), which only grow within one PostgreSQL cluster: a database copied into another cluster
    /// by pg_dump and pg_restore keeps ids that the new cluster's transactions have not reached, so new events would sort
    /// before them, resuming clients would skip them and the tailer's cursor would never reach them.
    /// </summary>
    public async Task<string?> IdsAheadOfClusterAsync(CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT COALESCE(max(id), 0), pg_snapshot_xmax(pg_current_snapshot())::text::bigint << 16 FROM progress_events");
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        var (stored, next) = (reader.GetInt64(0), reader.GetInt64(1));
        return stored < next ? null
            : $"progress_events holds event ids up to {stored}, but this PostgreSQL cluster's transactions only reach {next}: "
              + "the database was copied from another cluster (pg_dump/pg_restore), and new events would sort before the stored "
              + "ones. Copy it with its transaction ids instead (pg_basebackup, or the data directory), or delete the stored "
              + "events (DELETE FROM progress_events; jobs are kept, clients start afresh from status snapshots) and start the "
              + "gateway again. See docs/operations.md, \"Restoring the gateway's database\".";
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
            SELECT {Columns}
            {After}
            ORDER BY e.id
            LIMIT @limit
            """, afterId, filter);
        command.Parameters.AddWithValue("limit", limit);

        var events = new List<StoredEvent>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) events.Add(Read(reader));
        return events;
    }

    /// <summary>
    /// Committed events of every job after <paramref name="afterId"/>, whatever the horizon, that a reader which has
    /// read up to <paramref name="ahead"/> has not read yet: those after it, and those in <paramref name="pending"/> (id
    /// ranges, from exclusive, to inclusive, of transactions that were still running when it last read). Also the
    /// transactions running at this read's snapshot: their events, when they commit, may fall below the newest id read.
    /// </summary>
    public async Task<(IReadOnlyList<StoredEvent> Events, long[] Running)> ReadPastHorizonAsync(long afterId, long ahead,
        IReadOnlyList<(long From, long To)> pending, int limit, CancellationToken ct)
    {
        // One statement, so the running transactions and the rows read come from one snapshot.
        await using var command = dataSource.CreateCommand($"""
            WITH snapshot AS MATERIALIZED (SELECT pg_current_snapshot() AS s)
            SELECT (SELECT array(SELECT x::text::bigint FROM snapshot, pg_snapshot_xip(snapshot.s) x)), page.*
            FROM snapshot LEFT JOIN LATERAL (
                SELECT * FROM (
                    SELECT {Columns} FROM progress_events e JOIN jobs j ON j.id = e.job_id
                    WHERE e.id > GREATEST(@after, @ahead)
                    UNION ALL
                    SELECT {Columns} FROM unnest(@pending_from, @pending_to) p(from_id, to_id)
                    JOIN progress_events e ON e.id > GREATEST(p.from_id, @after) AND e.id <= LEAST(p.to_id, @ahead)
                    JOIN jobs j ON j.id = e.job_id) x
                ORDER BY id LIMIT @limit) page ON true
            """);
        command.Parameters.AddWithValue("after", afterId);
        command.Parameters.AddWithValue("ahead", ahead);
        command.Parameters.Add(new NpgsqlParameter("pending_from", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { Value = pending.Select(p => p.From).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("pending_to", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { Value = pending.Select(p => p.To).ToArray() });
        command.Parameters.AddWithValue("limit", limit);

        var events = new List<StoredEvent>();
        long[] running = [];
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            running = reader.GetFieldValue<long[]>(0);
            if (!reader.IsDBNull(1)) events.Add(Read(reader, offset: 1) with { PastHorizon = true });
        }
        return (events, running);
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
        command.Parameters.AddWithValue("one_job", filter?.IsOneJob == true);
        EventFilter.AddTo(command, filter);
        return command;
    }

    private static StoredEvent Read(NpgsqlDataReader r, int offset = 0) => new(r.GetInt64(offset), r.GetGuid(offset + 1),
        r.GetInt32(offset + 2), r.GetString(offset + 3), r.GetString(offset + 4), r.GetString(offset + 5), r.GetString(offset + 6));
}
