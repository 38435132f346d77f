using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Vidline.ServiceDefaults;
using Vidline.ServiceDefaults.Tenancy;

namespace Vidline.ServiceDefaults.Tests;

/// <summary>
/// Against the real PostgreSQL, in a database of its own: with the roles scripts/postgres/init-roles.sh makes (as
/// docker-compose.yml runs it), each service migrates as its own role without superuser rights, owns its own tables
/// and cannot read or change the other's; both read api_keys only through vidline_key_readers.
/// </summary>
public sealed class DatabaseRolesTests : IAsyncLifetime
{
    private const string Server = "Host=127.0.0.1;Port=5432";
    private const string SuperuserPassword = "vidline"; // scripts/lib.sh PG_PASSWORD, the machine's development server
    private const string IngestPassword = "roles-test-ingest";
    private const string GatewayPassword = "roles-test-gateway";
    private readonly string _database = $"vidline_roles_{Guid.NewGuid():N}"[..28];

    private string Superuser(string database) => $"{Server};Username=postgres;Password={SuperuserPassword};Database={database}";
    private string Ingest => $"{Server};Username=vidline_ingest;Password={IngestPassword};Database={_database}";
    private string Gateway => $"{Server};Username=vidline_gateway;Password={GatewayPassword};Database={_database}";

    public async Task InitializeAsync()
    {
        await ExecuteAsync(Superuser("postgres"), $"CREATE DATABASE {_database}");
        await RunInitRolesAsync();
    }

    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await ExecuteAsync(Superuser("postgres"), $"DROP DATABASE IF EXISTS {_database} WITH (FORCE)");
    }

    [Fact]
    public async Task Each_service_migrates_as_its_own_role_and_reaches_only_its_own_tables()
    {
        await MigrateAsync(Ingest, "ingest-api", new Migration("001-saga", "CREATE TABLE ingest_saga (id int PRIMARY KEY)"));
        await MigrateAsync(Gateway, "progress-gateway", new Migration("001-events", "CREATE TABLE gateway_events (id int PRIMARY KEY)"));
        // A second start of each finds its migrations recorded in the shared ledger.
        await MigrateAsync(Ingest, "ingest-api", new Migration("001-saga", "CREATE TABLE ingest_saga (id int PRIMARY KEY)"));
        await MigrateAsync(Gateway, "progress-gateway", new Migration("001-events", "CREATE TABLE gateway_events (id int PRIMARY KEY)"));

        await ExecuteAsync(Ingest, "INSERT INTO ingest_saga VALUES (1)");
        await ExecuteAsync(Gateway, "INSERT INTO gateway_events VALUES (1)");
        await AssertDeniedAsync(Gateway, "SELECT * FROM ingest_saga");
        await AssertDeniedAsync(Gateway, "DELETE FROM schema_migrations");
        await AssertDeniedAsync(Ingest, "SELECT * FROM gateway_events");
        await AssertDeniedAsync(Ingest, "DROP TABLE gateway_events");
        await AssertDeniedAsync(Ingest, $"CREATE DATABASE {_database}_more");
        Assert.Equal("vidline_ingest", await ScalarAsync(Superuser(_database), "SELECT tableowner FROM pg_tables WHERE tablename = 'ingest_saga'"));
        Assert.Equal("vidline_gateway", await ScalarAsync(Superuser(_database), "SELECT tableowner FROM pg_tables WHERE tablename = 'gateway_events'"));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Both_services_read_api_keys_through_the_key_readers_role_whichever_created_it(bool ingestFirst)
    {
        var (creator, other) = ingestFirst ? (Ingest, Gateway) : (Gateway, Ingest);
        await MigrateAsync(creator, ApiKeys.MigrationOwner, ApiKeys.Migration);
        // Keys are an operator's (scripts/keys.sh, as the superuser).
        await ExecuteAsync(Superuser(_database), "INSERT INTO api_keys (tenant, key_hash, key_prefix) VALUES ('acme', '\\x01', 'vl_0')");

        Assert.Equal("acme", await ScalarAsync(other, "SELECT tenant FROM api_keys"));
        Assert.Equal("acme", await ScalarAsync(creator, "SELECT tenant FROM api_keys"));
        await AssertDeniedAsync(other, "INSERT INTO api_keys (tenant, key_hash, key_prefix) VALUES ('intruder', '\\x02', 'vl_1')");
        await AssertDeniedAsync(other, "UPDATE api_keys SET tenant = 'intruder'");
    }

    [Fact]
    public async Task A_role_without_rights_on_the_database_cannot_connect()
    {
        var stranger = $"roles_stranger_{Guid.NewGuid():N}"[..24];
        await ExecuteAsync(Superuser("postgres"), $"CREATE ROLE {stranger} LOGIN PASSWORD 'x'");
        try
        {
            await using var connection = new NpgsqlConnection($"{Server};Username={stranger};Password=x;Database={_database};Pooling=false");
            var error = await Assert.ThrowsAsync<PostgresException>(() => connection.OpenAsync());
            Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, error.SqlState);
        }
        finally
        {
            await ExecuteAsync(Superuser("postgres"), $"DROP ROLE {stranger}");
        }
    }

    private static async Task MigrateAsync(string connectionString, string owner, params Migration[] migrations)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:Postgres"] = connectionString });
        builder.AddVidlineDatabase();
        using var host = builder.Build();
        await Database.MigrateAsync(host.Services, owner, migrations);
    }

    private async Task RunInitRolesAsync()
    {
        var script = Path.Combine(RepoRoot(), "scripts", "postgres", "init-roles.sh");
        var info = new ProcessStartInfo("bash", [script]) { RedirectStandardOutput = true, RedirectStandardError = true };
        info.Environment["PGHOST"] = "127.0.0.1";
        info.Environment["PGPORT"] = "5432";
        info.Environment["PGPASSWORD"] = SuperuserPassword;
        info.Environment["POSTGRES_DB"] = _database;
        info.Environment["INGEST_DB_PASSWORD"] = IngestPassword;
        info.Environment["GATEWAY_DB_PASSWORD"] = GatewayPassword;
        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"init-roles.sh failed: {output}");
    }

    private static async Task AssertDeniedAsync(string connectionString, string sql)
    {
        var error = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(connectionString, sql));
        Assert.True(error.SqlState == PostgresErrorCodes.InsufficientPrivilege, $"{sql}: {error.SqlState} {error.MessageText}");
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<object?> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Vidline.slnx"))) return dir.FullName;
        throw new DirectoryNotFoundException("Vidline.slnx not found above the test binaries");
    }
}
