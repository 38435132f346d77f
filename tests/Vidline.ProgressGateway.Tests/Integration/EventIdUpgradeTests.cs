using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Vidline.Contracts;
using Vidline.ServiceDefaults;

namespace Vidline.ProgressGateway.Tests.Integration;

/// <summary>
/// A database from before ids came from transaction ids (migrations up to 0003, ids from a sequence) keeps working
/// once migrated: new events sort after the old ones, and a client resuming from an old id gets exactly what followed.
/// </summary>
public class EventIdUpgradeTests : IAsyncLifetime
{
    private readonly string _database = $"vidline_gw_upgrade_{Guid.NewGuid():N}"[..40];
    private ServiceProvider _services = null!;

    public Task InitializeAsync()
    {
        var connectionString = $"{LocalServers.Postgres};Database={_database}";
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:Postgres"] = connectionString }).Build();
        _services = new ServiceCollection().AddLogging()
            .AddSingleton<IConfiguration>(configuration)
            .AddSingleton(NpgsqlDataSource.Create(connectionString))
            .BuildServiceProvider();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await LocalServers.DropDatabaseAsync(_database);
    }

    [Fact]
    public async Task Old_rows_keep_their_place_and_resume_from_an_old_id_is_exact()
    {
        var before = GatewayMigrations.All.TakeWhile(m => m.Id != "0004_forgotten_events").ToList();
        await Database.MigrateAsync(_services, "progress-gateway", before);
        var db = _services.GetRequiredService<NpgsqlDataSource>();
        var job = Guid.NewGuid();
        await using (var old = db.CreateCommand("""
            INSERT INTO jobs (id, owner, status, created_at, updated_at) VALUES (@job, 'tester', 'processing', now(), now());
            INSERT INTO progress_events (job_id, message_id, type, data, created_at)
            SELECT @job, gen_random_uuid(), 'progress', jsonb_build_object('job_id', @job, 'n', n), now() FROM generate_series(1, 3) n;
            """))
        {
            old.Parameters.AddWithValue("job", job);
            await old.ExecuteNonQueryAsync();
        }

        await Database.MigrateAsync(_services, "progress-gateway", GatewayMigrations.All);
        var log = new EventLog(db, new GatewayStats(TimeProvider.System), new CommitSignal(db));
        var history = new EventHistory(db);
        Assert.Equal((1L, 3L, 0L), await history.RetainedAsync(default));

        await log.AppendProgressAsync([Messages.Progress(job, Stages.Transcoding, 30)], default);
        var ids = (await history.ReadAfterAsync(1, EventFilter.ForJob(job), 10, default)).Select(e => e.Id).ToList();
        Assert.Equal([2L, 3L], ids.Take(2));
        Assert.Equal(3, ids.Count);
        Assert.True(ids[2] > 3);

        // An expired job's events are forgotten: a client from before them starts afresh.
        await log.ForgetJobAsync(job, default);
        Assert.Equal((0L, 0L, ids[2]), await history.RetainedAsync(default));
    }

    [Fact]
    public async Task A_database_whose_ids_are_ahead_of_the_cluster_is_refused_until_its_events_are_deleted()
    {
        await Database.MigrateAsync(_services, "progress-gateway", GatewayMigrations.All);
        var db = _services.GetRequiredService<NpgsqlDataSource>();
        var history = new EventHistory(db);
        var job = Guid.NewGuid();
        await new EventLog(db, new GatewayStats(TimeProvider.System), new CommitSignal(db))
            .ApplyStatusAsync(Messages.Status(job, JobStatuses.Processing, Stages.Transcoding), default);
        Assert.Null(await history.IdsAheadOfClusterAsync(default));

        // What pg_dump/pg_restore from an older, busier cluster leaves: ids beyond every transaction id here.
        await using (var restored = db.CreateCommand("""
            INSERT INTO progress_events (id, job_id, message_id, type, data, created_at)
            VALUES ((pg_snapshot_xmax(pg_current_snapshot())::text::bigint + 1000000) << 16, @job, gen_random_uuid(),
                    'progress', jsonb_build_object('job_id', @job), now())
            """))
        {
            restored.Parameters.AddWithValue("job", job);
            await restored.ExecuteNonQueryAsync();
        }
        var reason = await history.IdsAheadOfClusterAsync(default);
        Assert.NotNull(reason);
        Assert.Contains("pg_restore", reason);
        Assert.Contains("DELETE FROM progress_events", reason);

        // The way out the message names.
        await using (var delete = db.CreateCommand("DELETE FROM progress_events")) await delete.ExecuteNonQueryAsync();
        Assert.Null(await history.IdsAheadOfClusterAsync(default));
    }
}
