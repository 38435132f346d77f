using System.Text.RegularExpressions;
using Npgsql;

namespace Vidline.ServiceDefaults.Tenancy;

/// <summary>
/// The <c>api_keys</c> table: which tenant each key hash belongs to. Its schema belongs to tenancy, not to one service:
/// every service that authenticates migrates it at start (<see cref="MigrateAsync"/>; applied once, by whichever
/// comes first), so a gateway started alone (tests, bench) has it too. The services only read it; scripts/keys.sh
/// creates, lists and revokes keys with psql.
/// </summary>
public sealed partial class ApiKeys(NpgsqlDataSource dataSource)
{
    public const string MigrationOwner = "tenancy";

    public static readonly Migration Migration = new("0001_api_keys", """
        CREATE TABLE api_keys (
            id          bigserial PRIMARY KEY,
            tenant      text NOT NULL,
            key_hash    bytea NOT NULL UNIQUE,
            key_prefix  text NOT NULL,
            created_at  timestamptz NOT NULL DEFAULT now(),
            revoked_at  timestamptz
        );
        CREATE INDEX api_keys_tenant_idx ON api_keys (tenant);
        -- With least-privilege roles (scripts/postgres/init-roles.sh) the services read keys as key readers, whichever
        -- of them created the table; without those roles (make run: one login) there is nothing to grant.
        DO $$ BEGIN
            IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'vidline_key_readers') THEN
                GRANT SELECT ON api_keys TO vidline_key_readers;
            END IF;
        END $$;
        """);

    public static Task MigrateAsync(IServiceProvider services, CancellationToken ct = default) =>
        Database.MigrateAsync(services, MigrationOwner, [Migration], ct);

    /// <summary>A tenant's name as keys.sh accepts it: it appears in URLs of nothing, but in logs and the jobs table.</summary>
    [GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,62}$")]
    public static partial Regex TenantName();

    /// <summary>The tenant of an unrevoked key with this hash, or null.</summary>
    public async Task<string?> TenantOfAsync(byte[] keyHash, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("SELECT tenant FROM api_keys WHERE key_hash = @hash AND revoked_at IS NULL");
        command.Parameters.AddWithValue("hash", keyHash);
        return await command.ExecuteScalarAsync(ct) as string;
    }

    /// <summary>A new key for <paramref name="tenant"/>: returned once, stored only as its hash (as keys.sh does).</summary>
    public async Task<string> CreateAsync(string tenant, CancellationToken ct = default)
    {
        // "anonymous" owns the jobs from before API keys (keys.sh refuses it too).
        if (!TenantName().IsMatch(tenant) || tenant == "anonymous")
            throw new ArgumentException($"'{tenant}' is not a valid tenant name.", nameof(tenant));
        var key = ApiKey.Generate();
        await using var command = dataSource.CreateCommand("INSERT INTO api_keys (tenant, key_hash, key_prefix) VALUES (@tenant, @hash, @prefix)");
        command.Parameters.AddWithValue("tenant", tenant);
        command.Parameters.AddWithValue("hash", ApiKey.Hash(key));
        command.Parameters.AddWithValue("prefix", ApiKey.Shown(key));
        await command.ExecuteNonQueryAsync(ct);
        return key;
    }

    public async Task RevokeAsync(string key, CancellationToken ct = default)
    {
        await using var command = dataSource.CreateCommand("UPDATE api_keys SET revoked_at = now() WHERE key_hash = @hash AND revoked_at IS NULL");
        command.Parameters.AddWithValue("hash", ApiKey.Hash(key));
        await command.ExecuteNonQueryAsync(ct);
    }
}
