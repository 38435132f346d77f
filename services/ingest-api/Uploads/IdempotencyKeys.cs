using Npgsql;
using Vidline.ServiceDefaults;

namespace Vidline.IngestApi.Uploads;

/// <summary>
/// Remembers which job an <c>Idempotency-Key</c> created, per owner, so a client that repeats a POST
/// (after a timeout, say) gets the first job back instead of a second one.
/// </summary>
public sealed class IdempotencyKeys(NpgsqlDataSource dataSource)
{
    public static readonly Migration Migration = new("0002_idempotency_keys", """
        CREATE TABLE idempotency_keys (
            owner text NOT NULL,
            idempotency_key text NOT NULL,
            job_id uuid NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (owner, idempotency_key))
        """);

    /// <summary>Claims <paramref name="key"/> for <paramref name="jobId"/>; returns the job that holds it (ours or an earlier one).</summary>
    public async Task<Guid> ClaimAsync(string owner, string key, Guid jobId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            WITH claimed AS (
                INSERT INTO idempotency_keys (owner, idempotency_key, job_id) VALUES (@owner, @key, @job)
                ON CONFLICT (owner, idempotency_key) DO NOTHING RETURNING job_id)
            SELECT job_id FROM claimed
            UNION ALL
            SELECT job_id FROM idempotency_keys WHERE owner = @owner AND idempotency_key = @key
            LIMIT 1
            """);
        command.Parameters.AddWithValue("owner", owner);
        command.Parameters.AddWithValue("key", key);
        command.Parameters.AddWithValue("job", jobId);
        return (Guid)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>Lets a key be used again when its upload never became a job (rejected before the file arrived).</summary>
    public async Task ReleaseAsync(string owner, string key, Guid jobId)
    {
        await using var command = dataSource.CreateCommand(
            "DELETE FROM idempotency_keys WHERE owner = @owner AND idempotency_key = @key AND job_id = @job");
        command.Parameters.AddWithValue("owner", owner);
        command.Parameters.AddWithValue("key", key);
        command.Parameters.AddWithValue("job", jobId);
        await command.ExecuteNonQueryAsync();
    }
}
