using System.Security.Cryptography;
using System.Text;
using Npgsql;
using Vidline.ServiceDefaults;

namespace Vidline.IngestApi.Uploads;

/// <summary>
/// Remembers which job an <c>Idempotency-Key</c> created, per owner (tenant), so a client that repeats a POST
/// (after a timeout, say) gets the first job back instead of a second one. Each key also remembers a fingerprint of
/// the request that used it: the same key sent with a different request is refused (422), as the IETF
/// idempotency-key draft asks, instead of answering with a job the request did not ask for.
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

    /// <summary>Keys claimed before fingerprints existed have none and match any request.</summary>
    public static readonly Migration FingerprintMigration = new("0004_idempotency_fingerprints",
        "ALTER TABLE idempotency_keys ADD COLUMN fingerprint bytea");

    /// <summary>The job holding a key, and whether the request that claimed it is the same as this one.</summary>
    public sealed record Claim(Guid JobId, bool SameRequest);

    /// <summary>
    /// What identifies an upload before its body is read: the key is claimed first (so two concurrent retries cannot
    /// both store a video), and the form's fields (key, priority, file name) arrive inside the body, after the claim.
    /// So the fingerprint covers the method, the path, the media type (without the boundary, which differs on every
    /// send) and Content-Length: a retry of the same upload has the same length; another file almost never does. A
    /// chunked upload (no Content-Length) is fingerprinted by the rest alone.
    /// </summary>
    public static byte[] Fingerprint(HttpRequest request)
    {
        var mediaType = Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(request.ContentType, out var type)
            ? type.MediaType.Value?.ToLowerInvariant() : "";
        var length = request.ContentLength?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "chunked";
        return SHA256.HashData(Encoding.UTF8.GetBytes($"{request.Method} {request.Path}\n{mediaType}\n{length}"));
    }

    /// <summary>Claims <paramref name="key"/> for <paramref name="jobId"/>; returns the job that holds it (ours or an earlier one).</summary>
    public async Task<Claim> ClaimAsync(string owner, string key, byte[] fingerprint, Guid jobId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            WITH claimed AS (
                INSERT INTO idempotency_keys (owner, idempotency_key, job_id, fingerprint) VALUES (@owner, @key, @job, @fingerprint)
                ON CONFLICT (owner, idempotency_key) DO NOTHING RETURNING job_id, fingerprint)
            SELECT job_id, fingerprint FROM claimed
            UNION ALL
            SELECT job_id, fingerprint FROM idempotency_keys WHERE owner = @owner AND idempotency_key = @key
            LIMIT 1
            """);
        command.Parameters.AddWithValue("owner", owner);
        command.Parameters.AddWithValue("key", key);
        command.Parameters.AddWithValue("job", jobId);
        command.Parameters.AddWithValue("fingerprint", fingerprint);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var held = reader.IsDBNull(1) ? null : reader.GetFieldValue<byte[]>(1);
        return new Claim(reader.GetGuid(0), held is null || held.AsSpan().SequenceEqual(fingerprint));
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
