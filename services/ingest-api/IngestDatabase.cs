using Vidline.IngestApi.Persistence;
using Vidline.IngestApi.Uploads;
using Vidline.ServiceDefaults;

namespace Vidline.IngestApi;

/// <summary>The tables ingest-api owns: the saga's, the idempotency keys' and the saga's outbox.</summary>
public static class IngestDatabase
{
    public static readonly IReadOnlyList<Migration> Migrations = [.. VideoJobTable.Migrations, IdempotencyKeys.Migration, Outbox.Migration];

    public static Task MigrateAsync(IServiceProvider services, CancellationToken cancellationToken = default) =>
        Database.MigrateAsync(services, "ingest-api", Migrations, cancellationToken);
}
