using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Vidline.ServiceDefaults;

/// <summary>One ordered schema change a service owns; applied once, recorded in <c>schema_migrations</c>.</summary>
public sealed record Migration(string Id, string Sql);

public static class Database
{
    /// <summary>Registers an <see cref="NpgsqlDataSource"/> for <c>ConnectionStrings:Postgres</c>.</summary>
    public static IHostApplicationBuilder AddVidlineDatabase(this IHostApplicationBuilder builder)
    {
        var connectionString = builder.Configuration.GetConnectionString("Postgres")
            ?? throw new InvalidOperationException("ConnectionStrings:Postgres is not configured.");
        // Keep each process's pool well under PostgreSQL's max_connections, which every service shares:
        // thousands of SSE clients opening at once must queue for a connection, not exhaust the server.
        var pooled = new NpgsqlConnectionStringBuilder(connectionString)
        {
            MaxPoolSize = builder.Configuration.GetValue("Database:MaxPoolSize", 30),
        };
        builder.Services.AddSingleton(_ => NpgsqlDataSource.Create(pooled.ConnectionString));
        builder.Services.AddHealthChecks().AddCheck<PostgresReachable>("postgres", timeout: TimeSpan.FromSeconds(5));
        return builder;
    }

    /// <summary>
    /// Creates the database if it is missing, then applies the service's migrations in order. An advisory
    /// lock lets several instances of a service start at once without racing each other.
    /// </summary>
    public static async Task MigrateAsync(IServiceProvider services, string owner, IReadOnlyList<Migration> migrations,
        CancellationToken cancellationToken = default)
    {
        var dataSource = services.GetRequiredService<NpgsqlDataSource>();
        // NpgsqlDataSource.ConnectionString drops the password, so the admin connection starts from configuration.
        var configured = services.GetService<IConfiguration>()?.GetConnectionString("Postgres") ?? dataSource.ConnectionString;
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Vidline.Database");
        await EnsureDatabaseExistsAsync(configured, cancellationToken);

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_lock(7031977)", connection))
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        try
        {
            await Execute(connection, """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    owner text NOT NULL, id text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now(),
                    PRIMARY KEY (owner, id))
                """, cancellationToken);
            // One ledger for every service's migrations, while each service may log in as its own role
            // (scripts/postgres/init-roles.sh): whichever creates it (ingest-api, first start phase) lets the others
            // read it and add their rows. No other table is shared.
            await Execute(connection, """
                DO $$ BEGIN
                    IF (SELECT tableowner FROM pg_tables
                        WHERE schemaname = current_schema() AND tablename = 'schema_migrations') = current_user THEN
                        GRANT SELECT, INSERT ON schema_migrations TO PUBLIC;
                    END IF;
                END $$
                """, cancellationToken);
            foreach (var migration in migrations)
            {
                await using var check = new NpgsqlCommand("SELECT 1 FROM schema_migrations WHERE owner = @o AND id = @i", connection);
                check.Parameters.AddWithValue("o", owner);
                check.Parameters.AddWithValue("i", migration.Id);
                if (await check.ExecuteScalarAsync(cancellationToken) is not null) continue;

                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                await Execute(connection, migration.Sql, cancellationToken);
                await using var record = new NpgsqlCommand("INSERT INTO schema_migrations (owner, id) VALUES (@o, @i)", connection);
                record.Parameters.AddWithValue("o", owner);
                record.Parameters.AddWithValue("i", migration.Id);
                await record.ExecuteNonQueryAsync(cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                logger.LogInformation("Applied migration {Owner}/{Migration}", owner, migration.Id);
            }
        }
        finally
        {
            await Execute(connection, "SELECT pg_advisory_unlock(7031977)", CancellationToken.None);
        }
    }

    private static async Task EnsureDatabaseExistsAsync(string connectionString, CancellationToken cancellationToken)
    {
        // A role that may not create databases (docker-compose.yml: the database is made before any service starts)
        // only needs to reach its own database; creating it is for make run and the tests, whose role may.
        var target = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false };
        try
        {
            await using var existing = new NpgsqlConnection(target.ConnectionString);
            await existing.OpenAsync(cancellationToken);
            return;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InvalidCatalogName)
        {
            // It does not exist yet: create it below.
        }
        var database = target.Database ?? "postgres";
        var admin = new NpgsqlConnectionStringBuilder(connectionString) { Database = "postgres", Pooling = false };
        await using var connection = new NpgsqlConnection(admin.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        try
        {
            await Execute(connection, $"CREATE DATABASE \"{database.Replace("\"", "\"\"")}\"", cancellationToken);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.DuplicateDatabase)
        {
            // Another service created it first.
        }
    }

    private static async Task Execute(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
