using System.Text.Json;
using MassTransit;
using Npgsql;
using NpgsqlTypes;
using Vidline.IngestApi.Jobs;
using Vidline.ServiceDefaults;

namespace Vidline.IngestApi.Persistence;

/// <summary>
/// The <c>video_job_saga</c> table: the saga as JSON, beside real columns for what is queried (state, liveness,
/// finish time) so the sweeps use indexes and never reach into the JSON. Change a job by sending the saga a
/// message, never by writing its row: the public reads here serve the sweeps and take no locks.
/// </summary>
public sealed class VideoJobTable(NpgsqlDataSource dataSource)
{
    private const string Columns = "version, data::text";
    private const int LockNamespace = 0x56_4A_4F_42; // "VJOB": advisory locks on ids of jobs not yet stored
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.General);

    public static readonly Migration[] Migrations =
    [
        new("saga-table-video_job_saga-v1", """
            CREATE TABLE IF NOT EXISTS video_job_saga (
                correlation_id uuid PRIMARY KEY,
                current_state text NOT NULL,
                version int NOT NULL,
                data jsonb NOT NULL,
                updated_at timestamptz NOT NULL DEFAULT now()
            );
            """),
        new("video_job_saga-v2-queried-columns", """
            ALTER TABLE video_job_saga
                ADD COLUMN last_seen_at timestamptz NOT NULL DEFAULT now(),
                ADD COLUMN finished_at timestamptz;
            UPDATE video_job_saga SET
                last_seen_at = COALESCE((data->>'LastProgressAt')::timestamptz, updated_at),
                finished_at = (data->>'FinishedAt')::timestamptz;
            DROP INDEX IF EXISTS video_job_saga_state_updated_idx;
            CREATE INDEX video_job_saga_state_seen_idx ON video_job_saga (current_state, last_seen_at);
            CREATE INDEX video_job_saga_finished_idx ON video_job_saga (finished_at) WHERE finished_at IS NOT NULL;
            """),
        new("video_job_saga-v3-attempt-started", """
            ALTER TABLE video_job_saga ADD COLUMN attempt_started boolean NOT NULL DEFAULT true;
            """),
    ];

    /// <summary>
    /// Jobs in one of <paramref name="states"/> whose node has not been seen since <paramref name="startedCutoff"/>, or
    /// whose command no node has taken since <paramref name="queuedCutoff"/>.
    /// </summary>
    public async Task<IReadOnlyList<VideoJobState>> SilentSinceAsync(IEnumerable<string> states, DateTimeOffset startedCutoff,
        DateTimeOffset queuedCutoff, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"""
            SELECT {Columns} FROM video_job_saga
            WHERE current_state = ANY(@states)
              AND last_seen_at < CASE WHEN attempt_started THEN @started ELSE @queued END
            ORDER BY last_seen_at LIMIT 1000
            """);
        command.Parameters.AddWithValue("states", states.ToArray());
        command.Parameters.AddWithValue("started", startedCutoff.ToUniversalTime());
        command.Parameters.AddWithValue("queued", queuedCutoff.ToUniversalTime());
        return await Read(command, ct);
    }

    /// <summary>Jobs in one of <paramref name="states"/> that finished before <paramref name="cutoff"/>.</summary>
    public async Task<IReadOnlyList<VideoJobState>> FinishedBeforeAsync(IEnumerable<string> states, DateTimeOffset cutoff, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand(
            $"SELECT {Columns} FROM video_job_saga WHERE finished_at < @cutoff AND current_state = ANY(@states) ORDER BY finished_at LIMIT 1000");
        command.Parameters.AddWithValue("states", states.ToArray());
        command.Parameters.AddWithValue("cutoff", cutoff.ToUniversalTime());
        return await Read(command, ct);
    }

    public async Task<VideoJobState?> FindAsync(Guid id, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        return await Select(connection, id, forUpdate: false, ct);
    }

    // ---- the repository's side, inside its per-message transaction

    internal NpgsqlDataSource DataSource => dataSource;

    /// <summary>
    /// Loads and row-locks the job (<c>FOR UPDATE</c>). When it is missing, takes a transaction-scoped advisory lock
    /// on the id and looks again, so that of two messages that both find no job, the second waits for the first to
    /// commit its insert and then sees the row.
    /// </summary>
    internal async Task<VideoJobState?> LoadForUpdate(NpgsqlConnection connection, Guid id, CancellationToken ct)
    {
        if (await Select(connection, id, forUpdate: true, ct) is { } job) return job;
        await using (var command = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@ns, hashtext(@id::text))", connection))
        {
            command.Parameters.AddWithValue("ns", LockNamespace);
            command.Parameters.AddWithValue("id", id);
            await command.ExecuteNonQueryAsync(ct);
        }
        return await Select(connection, id, forUpdate: true, ct);
    }

    /// <summary>Writes a new job with version 1; false if its id exists already.</summary>
    internal async Task<bool> TryInsert(NpgsqlConnection connection, VideoJobState job, CancellationToken ct)
    {
        job.Version = 1;
        await using var command = new NpgsqlCommand("""
            INSERT INTO video_job_saga (correlation_id, current_state, version, data, last_seen_at, attempt_started, finished_at, updated_at)
            VALUES (@id, @state, @version, @data, @seen, @started, @finished, now())
            ON CONFLICT (correlation_id) DO NOTHING
            """, connection);
        AddRow(command, job);
        return await command.ExecuteNonQueryAsync(ct) == 1;
    }

    /// <summary>Writes the job and bumps its version; the row must still hold the version that was loaded.</summary>
    internal async Task Update(NpgsqlConnection connection, VideoJobState job, CancellationToken ct)
    {
        var loaded = job.Version;
        job.Version = loaded + 1;
        await using var command = new NpgsqlCommand("""
            UPDATE video_job_saga SET current_state = @state, version = @version, data = @data,
                last_seen_at = @seen, attempt_started = @started, finished_at = @finished, updated_at = now()
            WHERE correlation_id = @id AND version = @loaded
            """, connection);
        AddRow(command, job);
        command.Parameters.AddWithValue("loaded", loaded);
        if (await command.ExecuteNonQueryAsync(ct) != 1)
        {
            job.Version = loaded;
            throw new ConcurrencyException($"Job {job.CorrelationId} version {loaded} was changed meanwhile.", typeof(VideoJobState), job.CorrelationId);
        }
    }

    private static async Task<VideoJobState?> Select(NpgsqlConnection connection, Guid id, bool forUpdate, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(
            $"SELECT {Columns} FROM video_job_saga WHERE correlation_id = @id" + (forUpdate ? " FOR UPDATE" : ""), connection);
        command.Parameters.AddWithValue("id", id);
        return (await Read(command, ct)).SingleOrDefault();
    }

    private static async Task<IReadOnlyList<VideoJobState>> Read(NpgsqlCommand command, CancellationToken ct)
    {
        var jobs = new List<VideoJobState>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var job = JsonSerializer.Deserialize<VideoJobState>(reader.GetString(1), Json)!;
            job.Version = reader.GetInt32(0); // the column is authoritative
            jobs.Add(job);
        }
        return jobs;
    }

    private static void AddRow(NpgsqlCommand command, VideoJobState job)
    {
        command.Parameters.AddWithValue("id", job.CorrelationId);
        command.Parameters.AddWithValue("state", job.CurrentState);
        command.Parameters.AddWithValue("version", job.Version);
        command.Parameters.Add(new NpgsqlParameter("data", NpgsqlDbType.Jsonb) { Value = JsonSerializer.Serialize(job, Json) });
        command.Parameters.AddWithValue("seen", job.LastSeenAt.ToUniversalTime());
        command.Parameters.AddWithValue("started", job.AttemptStarted);
        command.Parameters.Add(new NpgsqlParameter("finished", NpgsqlDbType.TimestampTz) { Value = (object?)job.FinishedAt?.ToUniversalTime() ?? DBNull.Value });
    }
}
