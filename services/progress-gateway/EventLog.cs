using Npgsql;
using NpgsqlTypes;
using Vidline.Contracts;

namespace Vidline.ProgressGateway;

/// <summary>
/// Appends events to <c>progress_events</c> and keeps the <c>jobs</c> row in step, in one transaction each.
///
/// Resume by Last-Event-ID is only exact if an id never becomes visible after a larger one (a reader that
/// has seen 12 must never later find 11). A sequence alone does not give that across concurrent
/// transactions, so every writer takes one advisory lock: id assignment and commit happen in id order.
/// NOTIFY inside the transaction is delivered at commit, which is exactly when the rows become readable.
/// </summary>
public sealed class EventLog(NpgsqlDataSource dataSource, GatewayStats stats)
{
    public const string Channel = "vidline_events";
    private const long WriteLock = 0x5649444C494E45; // "VIDLINE"

    public async Task<int> AppendProgressAsync(IReadOnlyList<ProgressReported> events, CancellationToken ct)
    {
        if (events.Count == 0) return 0;
        var ordered = events.OrderBy(e => e.Timestamp).ToList();

        return await InWriteTransaction(async (connection, transaction) =>
        {
            // A job's first progress may overtake its first JobStatusChanged: keep a placeholder row so the
            // event has somewhere to belong; the status message fills in key, owner and the rest.
            await using (var placeholders = new NpgsqlCommand("""
                INSERT INTO jobs (id, status, created_at, updated_at)
                SELECT DISTINCT id, 'pending', now(), now() FROM unnest(@job_ids) AS t(id)
                ON CONFLICT (id) DO NOTHING
                """, connection, transaction))
            {
                placeholders.Parameters.Add(new NpgsqlParameter("job_ids", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { Value = ordered.Select(e => e.JobId).Distinct().ToArray() });
                await placeholders.ExecuteNonQueryAsync(ct);
            }

            // Progress for a finished job is stale news: neither stored (it would follow `done`) nor applied.
            // The exception is progress made after a job failed: only a retry makes that, and the retry's
            // JobStatusChanged may still be on its way.
            // The job row moves forward only: GREATEST keeps late or reordered reports from rewinding it.
            await using var insert = new NpgsqlCommand("""
                WITH incoming AS (
                    SELECT * FROM unnest(@message_ids, @job_ids, @stages, @progress, @messages, @data, @created)
                        WITH ORDINALITY AS t(message_id, job_id, stage, progress, message, data, created_at, ord)
                ),
                inserted AS (
                    INSERT INTO progress_events (job_id, message_id, type, stage, progress, message, data, created_at)
                    SELECT i.job_id, i.message_id, 'progress', i.stage, i.progress, i.message, i.data::jsonb, i.created_at
                    FROM incoming i JOIN jobs j ON j.id = i.job_id
                    WHERE j.status NOT IN ('completed', 'failed', 'cancelled')
                       OR (j.status = 'failed' AND i.created_at > j.status_at)
                    ORDER BY i.ord
                    ON CONFLICT (message_id) DO NOTHING
                    RETURNING job_id, stage, progress
                ),
                furthest AS (
                    SELECT DISTINCT ON (job_id) job_id, stage, progress FROM inserted ORDER BY job_id, progress DESC
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
            insert.Parameters.Add(new NpgsqlParameter("message_ids", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { Value = ordered.Select(e => e.EventId).ToArray() });
            insert.Parameters.Add(new NpgsqlParameter("job_ids", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { Value = ordered.Select(e => e.JobId).ToArray() });
            insert.Parameters.Add(new NpgsqlParameter("stages", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = ordered.Select(e => e.Stage).ToArray() });
            insert.Parameters.Add(new NpgsqlParameter("progress", NpgsqlDbType.Array | NpgsqlDbType.Numeric) { Value = ordered.Select(e => (decimal)EventPayloads.OverallProgress(e)).ToArray() });
            insert.Parameters.Add(new NpgsqlParameter("messages", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = ordered.Select(e => e.Message ?? "").ToArray() });
            insert.Parameters.Add(new NpgsqlParameter("data", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = ordered.Select(EventPayloads.Progress).ToArray() });
            insert.Parameters.Add(new NpgsqlParameter("created", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { Value = ordered.Select(e => e.Timestamp.UtcDateTime).ToArray() });
            return Convert.ToInt32(await insert.ExecuteScalarAsync(ct));
        }, ct);
    }

    /// <summary>
    /// Applies the saga's snapshot to the job row and records a <c>stage</c> event, or <c>done</c> when final.
    /// A snapshot older than the one the row already shows (reordered delivery) changes nothing.
    /// </summary>
    public Task<int> ApplyStatusAsync(JobStatusChanged e, CancellationToken ct) =>
        InWriteTransaction(async (connection, transaction) =>
        {
            var final = JobStatuses.IsFinal(e.Status);
            await using var upsert = new NpgsqlCommand("""
                INSERT INTO jobs (id, key, owner, status, stage, progress, priority, attempt, error_message, result,
                                  created_at, updated_at, completed_at, status_at)
                VALUES (@id, @key, @owner, @status, @stage, @floor, @priority, @attempt, @error, @result::jsonb,
                        @created, now(), @completed, @at)
                ON CONFLICT (id) DO UPDATE SET
                    key = EXCLUDED.key, owner = EXCLUDED.owner, status = EXCLUDED.status, stage = EXCLUDED.stage,
                    progress = GREATEST(jobs.progress, EXCLUDED.progress), priority = EXCLUDED.priority,
                    attempt = EXCLUDED.attempt, error_message = EXCLUDED.error_message,
                    result = COALESCE(EXCLUDED.result, jobs.result), created_at = EXCLUDED.created_at,
                    updated_at = now(), completed_at = EXCLUDED.completed_at, status_at = EXCLUDED.status_at
                WHERE jobs.status_at IS NULL OR jobs.status_at <= EXCLUDED.status_at
                RETURNING 1
                """, connection, transaction);
            upsert.Parameters.AddWithValue("id", e.JobId);
            upsert.Parameters.AddWithValue("key", e.Key ?? "");
            upsert.Parameters.AddWithValue("owner", e.Owner ?? "");
            upsert.Parameters.AddWithValue("status", e.Status);
            upsert.Parameters.AddWithValue("stage", e.Stage ?? "");
            upsert.Parameters.AddWithValue("floor", ProgressFloor(e));
            upsert.Parameters.AddWithValue("priority", e.Priority);
            upsert.Parameters.AddWithValue("attempt", e.Attempt);
            upsert.Parameters.Add(new NpgsqlParameter("error", NpgsqlDbType.Text) { Value = (object?)e.ErrorMessage ?? DBNull.Value });
            upsert.Parameters.Add(new NpgsqlParameter("result", NpgsqlDbType.Text) { Value = (object?)EventPayloads.Result(e.Result) ?? DBNull.Value });
            upsert.Parameters.AddWithValue("created", e.CreatedAt.UtcDateTime);
            upsert.Parameters.Add(new NpgsqlParameter("completed", NpgsqlDbType.TimestampTz) { Value = final ? e.Timestamp.UtcDateTime : DBNull.Value });
            upsert.Parameters.AddWithValue("at", e.Timestamp.UtcDateTime);
            if (await upsert.ExecuteScalarAsync(ct) is null) return 0;

            return await InsertEvent(connection, transaction, e.EventId, e.JobId, final ? EventTypes.Done : EventTypes.Stage,
                e.Stage, null, e.ErrorMessage ?? e.Status, final ? EventPayloads.Done(e) : EventPayloads.Stage(e), e.Timestamp, ct);
        }, ct);

    /// <summary>Warnings of a job that has already finished are dropped, like late progress.</summary>
    public Task<int> AppendWarningAsync(WarningReported e, CancellationToken ct) =>
        InWriteTransaction(async (connection, transaction) =>
        {
            await using (var placeholder = new NpgsqlCommand("""
                INSERT INTO jobs (id, status, created_at, updated_at) VALUES (@id, 'pending', now(), now())
                ON CONFLICT (id) DO NOTHING
                """, connection, transaction))
            {
                placeholder.Parameters.AddWithValue("id", e.JobId);
                await placeholder.ExecuteNonQueryAsync(ct);
            }
            return await InsertEvent(connection, transaction, e.EventId, e.JobId, EventTypes.Warning,
                e.Stage, null, e.Message, EventPayloads.Warning(e), e.Timestamp, ct, onlyIfRunning: true);
        }, ct);

    /// <summary>A status moves overall progress at least to where its stage begins; completion is 100.</summary>
    private static decimal ProgressFloor(JobStatusChanged e) =>
        e.Status == JobStatuses.Completed ? 100m
        : Stages.IsKnown(e.Stage ?? "") ? (decimal)ProgressBands.Of(e.Stage!).Start
        : 0m;

    private static async Task<int> InsertEvent(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid messageId,
        Guid jobId, string type, string? stage, decimal? progress, string? message, string data, DateTimeOffset createdAt,
        CancellationToken ct, bool onlyIfRunning = false)
    {
        await using var insert = new NpgsqlCommand($"""
            INSERT INTO progress_events (job_id, message_id, type, stage, progress, message, data, created_at)
            SELECT @job, @message_id, @type, @stage, @progress, @message, @data::jsonb, @created
            {(onlyIfRunning ? "WHERE EXISTS (SELECT 1 FROM jobs WHERE id = @job AND status NOT IN ('completed', 'failed', 'cancelled'))" : "")}
            ON CONFLICT (message_id) DO NOTHING
            """, connection, transaction);
        insert.Parameters.AddWithValue("job", jobId);
        insert.Parameters.AddWithValue("message_id", messageId);
        insert.Parameters.AddWithValue("type", type);
        insert.Parameters.Add(new NpgsqlParameter("stage", NpgsqlDbType.Text) { Value = (object?)stage ?? DBNull.Value });
        insert.Parameters.Add(new NpgsqlParameter("progress", NpgsqlDbType.Numeric) { Value = (object?)progress ?? DBNull.Value });
        insert.Parameters.Add(new NpgsqlParameter("message", NpgsqlDbType.Text) { Value = (object?)message ?? DBNull.Value });
        insert.Parameters.AddWithValue("data", data);
        insert.Parameters.AddWithValue("created", createdAt.UtcDateTime);
        return await insert.ExecuteNonQueryAsync(ct);
    }

    private async Task<int> InWriteTransaction(Func<NpgsqlConnection, NpgsqlTransaction, Task<int>> work, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using (var lockCommand = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({WriteLock})", connection, transaction))
            await lockCommand.ExecuteNonQueryAsync(ct);

        var stored = await work(connection, transaction);
        if (stored > 0)
        {
            await using var notify = new NpgsqlCommand($"NOTIFY {Channel}", connection, transaction);
            await notify.ExecuteNonQueryAsync(ct);
        }
        await transaction.CommitAsync(ct);
        stats.RecordStored(stored);
        return stored;
    }
}
