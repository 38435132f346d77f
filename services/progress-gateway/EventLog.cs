using Npgsql;
using NpgsqlTypes;
using Vidline.Contracts;

namespace Vidline.ProgressGateway;

/// <summary>
/// Appends events to <c>progress_events</c> and keeps the <c>jobs</c> row in step, in one transaction each.
///
/// One rule orders a job's events: every event belongs to a numbered run of the job, and a run's <c>done</c> is
/// its last event. Progress and warnings are stored only for the job's newest run while that run has no
/// <c>done</c>; anything else is stale news. The row records the newest run seen and the newest finished one.
///
/// Every write to a job's rows holds that job's lock for its whole transaction, and takes it before writing
/// anything: a write waits only for writes that share one of its jobs (no lock is shared by all), and one job's
/// events are numbered in the order they commit (<see cref="EventOrder"/>), whichever instance or source they came from.
/// Readers are woken after the commit (<see cref="CommitSignal"/>), when the rows are readable: streams of one job
/// get them then; streams of many jobs once every older transaction of the cluster has ended (<see cref="EventTailer"/>).
/// </summary>
public sealed class EventLog(NpgsqlDataSource dataSource, GatewayStats stats, CommitSignal signal)
{
    public const string Channel = "vidline_events";

    /// <summary>An event of run <c>r</c> is news while no newer run has begun and run <c>r</c> has not finished.</summary>
    private const string IsNews = "{0}.run >= j.run AND {0}.run > j.finished_run";

    public async Task<int> AppendProgressAsync(IReadOnlyList<ProgressReported> events, CancellationToken ct)
    {
        var stored = 0;
        foreach (var chunk in events.Chunk(EventOrder.PerTransaction))
            stored += await AppendProgressChunkAsync(chunk, ct);
        return stored;
    }

    private async Task<int> AppendProgressChunkAsync(IReadOnlyList<ProgressReported> events, CancellationToken ct)
    {
        var ordered = events.Select(StoredFields.Bounded).OrderBy(e => e.Run).ThenBy(e => e.Timestamp).ToList();

        return await InWriteTransaction(ordered.Select(e => e.JobId), async (connection, transaction) =>
        {
            await TouchJobsAsync(connection, transaction, ordered.Select(e => (e.JobId, e.Run)), ct);
            // Overall progress only moves forward, on the row and on the wire: each stored event carries the
            // highest figure its job has reached (a restarted stage reports its own stage_progress from 0, but
            // the overall figure does not rewind). The stage moves only with a report that is really further.
            await using var insert = new NpgsqlCommand($"""
                WITH incoming AS (
                    SELECT * FROM unnest(@message_ids, @job_ids, @runs, @stages, @progress, @messages, @data, @created)
                        WITH ORDINALITY AS t(message_id, job_id, run, stage, progress, message, data, created_at, ord)
                ),
                news AS (
                    SELECT i.*, GREATEST(j.progress, max(i.progress) OVER (PARTITION BY i.job_id ORDER BY i.ord)) AS overall
                    FROM incoming i JOIN jobs j ON j.id = i.job_id
                    WHERE {string.Format(IsNews, "i")}
                ),
                inserted AS (
                    INSERT INTO progress_events (id, job_id, run, message_id, type, stage, progress, message, data, created_at)
                    SELECT {string.Format(EventOrder.NewId, "n.ord")}, n.job_id, n.run, n.message_id, 'progress', n.stage, n.overall, n.message,
                           jsonb_set(n.data::jsonb, ARRAY['progress'], to_jsonb(n.overall)), n.created_at
                    FROM news n
                    ORDER BY n.ord
                    ON CONFLICT (message_id) DO NOTHING
                    RETURNING message_id
                ),
                furthest AS (
                    SELECT DISTINCT ON (n.job_id) n.job_id, n.stage, n.progress
                    FROM news n JOIN inserted USING (message_id) ORDER BY n.job_id, n.progress DESC
                ),
                moved AS (
                    UPDATE jobs j SET
                        progress = GREATEST(j.progress, f.progress),
                        stage = CASE WHEN f.progress >= j.progress OR j.stage = '' THEN f.stage ELSE j.stage END,
                        updated_at = now()
                    FROM furthest f WHERE j.id = f.job_id
                    RETURNING 1
                )
                SELECT count(*) FROM inserted
                """, connection, transaction);
            insert.Parameters.Add(Array("message_ids", NpgsqlDbType.Uuid, ordered.Select(e => e.EventId)));
            insert.Parameters.Add(Array("job_ids", NpgsqlDbType.Uuid, ordered.Select(e => e.JobId)));
            insert.Parameters.Add(Array("runs", NpgsqlDbType.Integer, ordered.Select(e => e.Run)));
            insert.Parameters.Add(Array("stages", NpgsqlDbType.Text, ordered.Select(e => e.Stage)));
            insert.Parameters.Add(Array("progress", NpgsqlDbType.Numeric, ordered.Select(e => (decimal)EventPayloads.OverallProgress(e))));
            insert.Parameters.Add(Array("messages", NpgsqlDbType.Text, ordered.Select(e => e.Message ?? "")));
            insert.Parameters.Add(Array("data", NpgsqlDbType.Text, ordered.Select(EventPayloads.Progress)));
            insert.Parameters.Add(Array("created", NpgsqlDbType.TimestampTz, ordered.Select(e => e.Timestamp.UtcDateTime)));
            return Convert.ToInt32(await insert.ExecuteScalarAsync(ct));
        }, ct);
    }

    /// <summary>
    /// Applies the saga's snapshot to the job row and records a <c>stage</c> event, or <c>done</c> when final
    /// (which finishes the run). A snapshot older than the one the row shows (reordered delivery) changes nothing.
    /// </summary>
    public Task<int> ApplyStatusAsync(JobStatusChanged status, CancellationToken ct) =>
        InWriteTransaction([status.JobId], async (connection, transaction) =>
        {
            var e = StoredFields.Bounded(status);
            var final = JobStatuses.IsFinal(e.Status);
            await using var upsert = new NpgsqlCommand("""
                INSERT INTO jobs (id, key, owner, status, stage, progress, priority, run, finished_run, attempt, error_message,
                                  result, created_at, updated_at, completed_at, status_at)
                VALUES (@id, @key, @owner, @status, @stage, @floor, @priority, @run, @finished_run, @attempt, @error,
                        @result::jsonb, @created, now(), @completed, @at)
                ON CONFLICT (id) DO UPDATE SET
                    key = EXCLUDED.key, owner = EXCLUDED.owner, status = EXCLUDED.status, stage = EXCLUDED.stage,
                    progress = GREATEST(jobs.progress, EXCLUDED.progress), priority = EXCLUDED.priority,
                    run = GREATEST(jobs.run, EXCLUDED.run), finished_run = GREATEST(jobs.finished_run, EXCLUDED.finished_run),
                    attempt = EXCLUDED.attempt, error_message = EXCLUDED.error_message,
                    result = COALESCE(EXCLUDED.result, jobs.result), created_at = EXCLUDED.created_at,
                    updated_at = now(), completed_at = EXCLUDED.completed_at, status_at = EXCLUDED.status_at
                WHERE jobs.status_at IS NULL OR (jobs.run, jobs.status_at) <= (EXCLUDED.run, EXCLUDED.status_at)
                RETURNING 1
                """, connection, transaction);
            upsert.Parameters.AddWithValue("id", e.JobId);
            upsert.Parameters.AddWithValue("key", e.Key ?? "");
            upsert.Parameters.AddWithValue("owner", e.Owner ?? "");
            upsert.Parameters.AddWithValue("status", e.Status);
            upsert.Parameters.AddWithValue("stage", e.Stage ?? "");
            upsert.Parameters.AddWithValue("floor", ProgressFloor(e));
            upsert.Parameters.AddWithValue("priority", e.Priority);
            upsert.Parameters.AddWithValue("run", e.Run);
            upsert.Parameters.AddWithValue("finished_run", final ? e.Run : 0);
            upsert.Parameters.AddWithValue("attempt", e.Attempt);
            upsert.Parameters.Add(new NpgsqlParameter("error", NpgsqlDbType.Text) { Value = (object?)e.ErrorMessage ?? DBNull.Value });
            upsert.Parameters.Add(new NpgsqlParameter("result", NpgsqlDbType.Text) { Value = (object?)EventPayloads.Result(e.Result) ?? DBNull.Value });
            upsert.Parameters.AddWithValue("created", e.CreatedAt.UtcDateTime);
            upsert.Parameters.Add(new NpgsqlParameter("completed", NpgsqlDbType.TimestampTz) { Value = final ? e.Timestamp.UtcDateTime : DBNull.Value });
            upsert.Parameters.AddWithValue("at", e.Timestamp.UtcDateTime);
            if (await upsert.ExecuteScalarAsync(ct) is null) return 0;

            return await InsertEvent(connection, transaction, e.EventId, e.JobId, e.Run, final ? EventTypes.Done : EventTypes.Stage,
                e.Stage, e.ErrorMessage ?? e.Status, final ? EventPayloads.Done(e) : EventPayloads.Stage(e), e.Timestamp, ct);
        }, ct);

    /// <summary>Warnings follow the same rule as progress: only news about the job's current run is stored.</summary>
    public Task<int> AppendWarningAsync(WarningReported warning, CancellationToken ct) =>
        InWriteTransaction([warning.JobId], async (connection, transaction) =>
        {
            var e = StoredFields.Bounded(warning);
            await TouchJobsAsync(connection, transaction, [(e.JobId, e.Run)], ct);
            return await InsertEvent(connection, transaction, e.EventId, e.JobId, e.Run, EventTypes.Warning,
                e.Stage, e.Message, EventPayloads.Warning(e), e.Timestamp, ct, onlyIfNews: true);
        }, ct);

    /// <summary>
    /// Removes an expired job; its events go with it (ON DELETE CASCADE), and the store remembers the newest id it
    /// forgot (<c>event_retention</c>), so a client resuming from before it starts afresh.
    /// </summary>
    public Task ForgetJobAsync(Guid jobId, CancellationToken ct) =>
        InWriteTransaction([jobId], async (connection, transaction) =>
        {
            await using var command = new NpgsqlCommand("DELETE FROM jobs WHERE id = @id", connection, transaction);
            command.Parameters.AddWithValue("id", jobId);
            await command.ExecuteNonQueryAsync(ct);
            return 0;
        }, ct);

    /// <summary>
    /// Makes sure each job has a row (a job's first progress may overtake its first status) and that the row
    /// knows the newest run an event has named.
    /// </summary>
    private static async Task TouchJobsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction,
        IEnumerable<(Guid JobId, int Run)> events, CancellationToken ct)
    {
        var newest = events.GroupBy(e => e.JobId).Select(g => (JobId: g.Key, Run: g.Max(e => e.Run))).ToList();
        await using var command = new NpgsqlCommand("""
            INSERT INTO jobs (id, status, run, created_at, updated_at)
            SELECT id, 'pending', run, now(), now() FROM unnest(@job_ids, @runs) AS t(id, run)
            ON CONFLICT (id) DO UPDATE SET run = EXCLUDED.run WHERE jobs.run < EXCLUDED.run
            """, connection, transaction);
        command.Parameters.Add(Array("job_ids", NpgsqlDbType.Uuid, newest.Select(e => e.JobId)));
        command.Parameters.Add(Array("runs", NpgsqlDbType.Integer, newest.Select(e => e.Run)));
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>A status moves overall progress at least to where its stage begins; completion is 100.</summary>
    private static decimal ProgressFloor(JobStatusChanged e) =>
        e.Status == JobStatuses.Completed ? 100m
        : Stages.Find(e.Stage) is { } stage ? (decimal)stage.BandStart
        : 0m;

    private static async Task<int> InsertEvent(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid messageId,
        Guid jobId, int run, string type, string? stage, string? message, string data, DateTimeOffset createdAt,
        CancellationToken ct, bool onlyIfNews = false)
    {
        await using var insert = new NpgsqlCommand($"""
            INSERT INTO progress_events (id, job_id, run, message_id, type, stage, message, data, created_at)
            SELECT {string.Format(EventOrder.NewId, 1)}, @job, @run, @message_id, @type, @stage, @message, @data::jsonb, @created
            {(onlyIfNews ? $"WHERE EXISTS (SELECT 1 FROM jobs j, (SELECT @run AS run) e WHERE j.id = @job AND {string.Format(IsNews, "e")})" : "")}
            ON CONFLICT (message_id) DO NOTHING
            """, connection, transaction);
        insert.Parameters.AddWithValue("job", jobId);
        insert.Parameters.AddWithValue("run", run);
        insert.Parameters.AddWithValue("message_id", messageId);
        insert.Parameters.AddWithValue("type", type);
        insert.Parameters.Add(new NpgsqlParameter("stage", NpgsqlDbType.Text) { Value = (object?)stage ?? DBNull.Value });
        insert.Parameters.Add(new NpgsqlParameter("message", NpgsqlDbType.Text) { Value = (object?)message ?? DBNull.Value });
        insert.Parameters.AddWithValue("data", data);
        insert.Parameters.AddWithValue("created", createdAt.UtcDateTime);
        return await insert.ExecuteNonQueryAsync(ct);
    }

    private static NpgsqlParameter Array<T>(string name, NpgsqlDbType type, IEnumerable<T> values) =>
        new(name, NpgsqlDbType.Array | type) { Value = values.ToArray() };

    /// <summary>
    /// Runs <paramref name="work"/> holding the locks of <paramref name="jobs"/> until commit. They are taken first,
    /// before anything is written (so before the transaction has an id: it gets one only after the job's previous
    /// writer committed), and in one order, so two transactions that share jobs never wait for each other in a circle.
    /// </summary>
    private async Task<int> InWriteTransaction(IEnumerable<Guid> jobs, Func<NpgsqlConnection, NpgsqlTransaction, Task<int>> work,
        CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock(k) FROM unnest(@keys) AS k", connection, transaction))
        {
            lockCommand.Parameters.Add(Array("keys", NpgsqlDbType.Bigint, jobs.Select(EventOrder.JobLock).Distinct().Order()));
            await lockCommand.ExecuteNonQueryAsync(ct);
        }

        var stored = await work(connection, transaction);
        await transaction.CommitAsync(ct);
        if (stored > 0) signal.Raise();
        stats.RecordStored(stored);
        return stored;
    }
}
