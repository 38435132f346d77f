using System.Diagnostics;
using Npgsql;
using NpgsqlTypes;

namespace Vidline.Bench;

/// <summary>How fast the gateway turns ProgressReported messages into rows, and a plain-INSERT baseline.</summary>
public static class IngestRun
{
    public static async Task<object> RunAsync(Options options)
    {
        var count = options.Int("count", 50_000);
        var jobCount = options.Int("jobs", 100);
        var timeout = TimeSpan.FromSeconds(options.Number("timeout", 180));
        var gateway = new Gateway(options);
        await using var database = NpgsqlDataSource.Create(options.Text("postgres"));
        await using var publisher = await Publisher.StartAsync(options);
        var jobs = await gateway.CreateJobsAsync(publisher, jobCount);
        var seeded = await CountAsync(database, jobs); // the seed events, one per job

        Log.Note($"ingest: publishing {count} ProgressReported as fast as possible");
        var cpuBefore = gateway.CpuSeconds();
        var clock = Stopwatch.StartNew();
        var inFlight = new List<Task>(1000);
        for (var i = 0; i < count; i++)
        {
            inFlight.Add(publisher.PublishAsync(jobs[i % jobs.Length], progress: 30 + 40.0 * i / count));
            if (inFlight.Count == 1000) { await Task.WhenAll(inFlight); inFlight.Clear(); }
        }
        await Task.WhenAll(inFlight);
        var publishSeconds = clock.Elapsed.TotalSeconds;

        long stored = 0;
        while (clock.Elapsed < timeout)
        {
            stored = await CountAsync(database, jobs) - seeded;
            if (stored >= count) break;
            await Task.Delay(100);
        }
        var seconds = clock.Elapsed.TotalSeconds;
        var cpu = (gateway.CpuSeconds() - cpuBefore) / seconds;
        await using var distinct = database.CreateCommand("SELECT count(DISTINCT message_id) FROM progress_events WHERE job_id = ANY (@jobs)");
        distinct.Parameters.Add(new NpgsqlParameter("jobs", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { Value = jobs });
        var distinctIds = Convert.ToInt64(await distinct.ExecuteScalarAsync()) - seeded;

        return new
        {
            mode = "ingest",
            count,
            jobs = jobCount,
            publish_seconds = Math.Round(publishSeconds, 2),
            publish_per_second = Math.Round(count / publishSeconds),
            stored,
            distinct_message_ids = distinctIds,
            lost = count - stored,
            seconds_until_all_stored = stored >= count ? Math.Round(seconds, 2) : double.NaN,
            stored_per_second = Math.Round(stored / seconds),
            gateway_cpu_cores = Math.Round(cpu, 2),
        };
    }

    /// <summary>Single-row INSERTs, one statement and commit each, into a scratch copy of progress_events.</summary>
    public static async Task<object> InsertBaselineAsync(Options options)
    {
        var count = options.Int("count", 50_000);
        var limit = TimeSpan.FromSeconds(options.Number("seconds", 60));
        await using var database = NpgsqlDataSource.Create(options.Text("postgres"));
        await using (var create = database.CreateCommand("""
            DROP TABLE IF EXISTS bench_insert_baseline;
            CREATE TABLE bench_insert_baseline (
                id bigserial PRIMARY KEY, job_id uuid NOT NULL, message_id uuid NOT NULL UNIQUE, type text NOT NULL,
                stage text, progress numeric(5,2), message text, data jsonb NOT NULL, created_at timestamptz NOT NULL);
            CREATE INDEX ON bench_insert_baseline (job_id, id);
            """))
            await create.ExecuteNonQueryAsync();

        await using var connection = await database.OpenConnectionAsync();
        await using var insert = new NpgsqlCommand("""
            INSERT INTO bench_insert_baseline (job_id, message_id, type, stage, progress, message, data, created_at)
            VALUES (@job, @id, 'progress', 'transcoding', @progress, @message, @data::jsonb, now())
            """, connection);
        var job = insert.Parameters.Add(new NpgsqlParameter("job", NpgsqlDbType.Uuid));
        var id = insert.Parameters.Add(new NpgsqlParameter("id", NpgsqlDbType.Uuid));
        var progress = insert.Parameters.Add(new NpgsqlParameter("progress", NpgsqlDbType.Numeric));
        var message = insert.Parameters.Add(new NpgsqlParameter("message", NpgsqlDbType.Text));
        var data = insert.Parameters.Add(new NpgsqlParameter("data", NpgsqlDbType.Text));
        await insert.PrepareAsync();

        var jobs = Enumerable.Range(0, 100).Select(_ => Guid.NewGuid()).ToArray();
        var clock = Stopwatch.StartNew();
        var done = 0;
        for (; done < count && clock.Elapsed < limit; done++)
        {
            job.Value = jobs[done % jobs.Length];
            id.Value = Guid.NewGuid();
            progress.Value = 30m;
            message.Value = Publisher.Marker + done;
            data.Value = $$"""{"job_id":"{{job.Value}}","stage":"transcoding","progress":30,"message":"bench {{done}}"}""";
            await insert.ExecuteNonQueryAsync();
        }
        var seconds = clock.Elapsed.TotalSeconds;
        await using (var drop = new NpgsqlCommand("DROP TABLE bench_insert_baseline", connection)) await drop.ExecuteNonQueryAsync();
        return new { mode = "insert", requested = count, inserted = done, seconds = Math.Round(seconds, 2), per_second = Math.Round(done / seconds) };
    }

    private static async Task<long> CountAsync(NpgsqlDataSource database, Guid[] jobs)
    {
        await using var command = database.CreateCommand("SELECT count(*) FROM progress_events WHERE job_id = ANY (@jobs)");
        command.Parameters.Add(new NpgsqlParameter("jobs", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { Value = jobs });
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }
}
