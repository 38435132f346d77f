using Vidline.IngestApi.Persistence;
using Vidline.IngestApi.Uploads;
using Vidline.ServiceDefaults;
using Vidline.ServiceDefaults.Tenancy;

namespace Vidline.IngestApi;

/// <summary>The tables ingest-api owns: the saga's, the idempotency keys' and the saga's outbox; and the API keys' (tenancy's).</summary>
public static class IngestDatabase
{
    public static readonly IReadOnlyList<Migration> Migrations = [.. VideoJobTable.Migrations, IdempotencyKeys.Migration, Outbox.Migration, IdempotencyKeys.FingerprintMigration];

    public static async Task MigrateAsync(IServiceProvider services, CancellationToken cancellationToken = default)
    {
        await Database.MigrateAsync(services, "ingest-api", Migrations, cancellationToken);
        await ApiKeys.MigrateAsync(services, cancellationToken);
    }
}
