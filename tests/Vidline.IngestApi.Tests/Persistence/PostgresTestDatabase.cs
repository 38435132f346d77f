using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Vidline.ServiceDefaults;
using Vidline.ServiceDefaults.Tenancy;

namespace Vidline.IngestApi.Tests.Persistence;

/// <summary>
/// A throw-away database on the local PostgreSQL (127.0.0.1:5432, postgres/vidline, or the connection string in
/// <c>VIDLINE_TEST_POSTGRES</c>): created and migrated by <see cref="Database.MigrateAsync"/>, dropped at the end.
/// </summary>
public sealed class PostgresTestDatabase : IAsyncLifetime
{
    const string DefaultServer = "Host=127.0.0.1;Port=5432;Username=postgres;Password=vidline";

    public PostgresTestDatabase()
    {
        var builder = new NpgsqlConnectionStringBuilder(Environment.GetEnvironmentVariable("VIDLINE_TEST_POSTGRES") ?? DefaultServer)
        {
            Database = $"vidline_test_{Guid.NewGuid():N}"[..30],
            MaxPoolSize = 64,
            // Database.MigrateAsync opens its admin connection from NpgsqlDataSource.ConnectionString, which drops the
            // password unless it is persisted.
            PersistSecurityInfo = true,
        };
        ConnectionString = builder.ConnectionString;
        DataSource = NpgsqlDataSource.Create(ConnectionString);
    }

    public string ConnectionString { get; }
    public NpgsqlDataSource DataSource { get; }

    /// <summary>A new API key of <paramref name="tenant"/>, stored as keys.sh stores one.</summary>
    public Task<string> KeyForAsync(string tenant) => new ApiKeys(DataSource).CreateAsync(tenant);

    public async Task InitializeAsync()
    {
        var services = new ServiceCollection()
            .AddSingleton(DataSource)
            .AddSingleton<Microsoft.Extensions.Logging.ILoggerFactory>(NullLoggerFactory.Instance)
            .BuildServiceProvider();
        await Vidline.IngestApi.IngestDatabase.MigrateAsync(services);
    }

    public async Task DisposeAsync()
    {
        await DataSource.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        var admin = new NpgsqlConnectionStringBuilder(ConnectionString) { Database = "postgres", Pooling = false };
        await using var connection = new NpgsqlConnection(admin.ConnectionString);
        await connection.OpenAsync();
        var name = new NpgsqlConnectionStringBuilder(ConnectionString).Database!;
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }
}
