using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Vidline.ServiceDefaults;
using Vidline.ServiceDefaults.Tenancy;

namespace Vidline.ProgressGateway.Tests.Integration;

/// <summary>
/// The tenant the tests' jobs belong to (<see cref="Messages"/> publishes them as its owner), and API keys stored
/// the way ingest-api's migration and keys.sh store them: the gateway only reads <c>api_keys</c>.
/// </summary>
public static class TestTenant
{
    public const string Name = "tester";

    /// <summary>A new key of <paramref name="tenant"/> in the database at <paramref name="connectionString"/> (table created if missing).</summary>
    public static async Task<string> KeyAsync(string connectionString, string tenant = Name)
    {
        // Database.MigrateAsync opens its admin connection from the data source's connection string: keep the password in it.
        await using var dataSource = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(connectionString) { PersistSecurityInfo = true }.ConnectionString);
        var services = new ServiceCollection()
            .AddSingleton(dataSource)
            .AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance)
            .BuildServiceProvider();
        await Database.MigrateAsync(services, "ingest-api", [ApiKeys.Migration]);
        return await new ApiKeys(dataSource).CreateAsync(tenant);
    }
}
