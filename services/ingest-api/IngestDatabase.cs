using Vidline.IngestApi.Persistence;
using Vidline.IngestApi.Uploads;
using Vidline.ServiceDefaults;
using Vidline.ServiceDefaults.Tenancy;

namespace Vidline.IngestApi;

/// <summary>
/// The tables ingest-api owns: the saga's, the idempotency keys', the saga's outbox, and the API keys (it starts first,
/// so the gateway finds them).
/// </summary>
public static class IngestDatabase
{
    public static readonly IReadOnlyList<Migration> Migrations = [.. VideoJobTable.Migrations, IdempotencyKeys.Migration, Outbox.Migration, ApiKeys.Migration, IdempotencyKeys.FingerprintMigration];

    public static Task MigrateAsync(IServiceProvider services, CancellationToken cancellationToken = default) =>
        Database.MigrateAsync(services, "ingest-api", Migrations, cancellationToken);
}
