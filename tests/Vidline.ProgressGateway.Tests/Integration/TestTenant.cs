using Npgsql;
using Vidline.ServiceDefaults.Tenancy;

namespace Vidline.ProgressGateway.Tests.Integration;

/// <summary>
/// The tenant the tests' jobs belong to (<see cref="Messages"/> publishes them as its owner), and API keys stored
/// the way keys.sh stores them: the gateway only reads <c>api_keys</c>.
/// </summary>
public static class TestTenant
{
    public const string Name = "tester";

    /// <summary>A new key of <paramref name="tenant"/> in the database at <paramref name="connectionString"/>, which a gateway has migrated.</summary>
    public static async Task<string> KeyAsync(string connectionString, string tenant = Name)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        return await new ApiKeys(dataSource).CreateAsync(tenant);
    }
}
