using System.Diagnostics;
using Npgsql;
using NpgsqlTypes;
using MassTransit;
using Vidline.Contracts;

namespace Vidline.Bench;

/// <summary>How fast the gateway turns ProgressReported messages into rows, against COPY (the database's limit) and the broker alone.</summary>
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
        await publisher.PublishFloodAsync(jobs, count);
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
            gateway_cpu_seconds = Math.Round(cpu * seconds, 2),
        };
    }

    /// <summary>
    /// The limit for ingest: the same rows the gateway stored (the first <c>--count</c> progress rows of its database),
    /// written by one binary <c>COPY</c> in one transaction into a scratch table shaped like <c>progress_events</c>
    /// (columns, defaults, indexes and constraints: <c>LIKE ... INCLUDING ALL</c>).
    /// </summary>
    public static async Task<object> CopyLimitAsync(Options options)
    {
        var count = options.Int("count", 50_000);
        await using var database = NpgsqlDataSource.Create(options.Text("postgres"));
        await using var connection = await database.OpenConnectionAsync();
        var rows = new MemoryStream();
        await using (var export = await connection.BeginRawBinaryCopyAsync(
            $"COPY (SELECT * FROM progress_events WHERE type = 'progress' LIMIT {count}) TO STDOUT (FORMAT BINARY)"))
            await export.CopyToAsync(rows);
        await ExecuteAsync(connection, "DROP TABLE IF EXISTS bench_copy_limit; CREATE TABLE bench_copy_limit (LIKE progress_events INCLUDING ALL)");

        var clock = Stopwatch.StartNew();
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await using (var import = await connection.BeginRawBinaryCopyAsync("COPY bench_copy_limit FROM STDIN (FORMAT BINARY)"))
            {
                rows.Position = 0;
                await rows.CopyToAsync(import);
            }
            await transaction.CommitAsync();
        }
        var seconds = clock.Elapsed.TotalSeconds;
        await using var counted = new NpgsqlCommand("SELECT count(*) FROM bench_copy_limit", connection);
        var copied = Convert.ToInt64(await counted.ExecuteScalarAsync());
        await ExecuteAsync(connection, "DROP TABLE bench_copy_limit");
        return new { mode = "copy", requested = count, copied, bytes = rows.Length, seconds = Math.Round(seconds, 3), per_second = Math.Round(copied / seconds) };
    }

    /// <summary>
    /// The broker's part of ingest: <c>--count</c> ProgressReported published as fast as <see cref="RunAsync"/> publishes
    /// them, consumed in batches shaped like the gateway's (100 messages or 10 ms, prefetch 200, two batches at once) by
    /// a consumer that acknowledges without storing. Run it in a vhost of its own, where no gateway listens.
    /// </summary>
    public static async Task<object> ConsumeOnlyAsync(Options options)
    {
        var count = options.Int("count", 50_000);
        var timeout = TimeSpan.FromSeconds(options.Number("timeout", 180));
        var counter = new AckOnlyConsumer.Counter(count);
        var bus = Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            cfg.Host(options.Text("amqp-host", "127.0.0.1"), (ushort)options.Int("amqp-port", 5672), options.Text("vhost"), h =>
            {
                h.Username("guest");
                h.Password("guest");
            });
            cfg.ReceiveEndpoint("bench-consume-only", e =>
            {
                e.PrefetchCount = options.Int("prefetch", 200);
                e.Consumer(() => new AckOnlyConsumer(counter), c => c.Options<BatchOptions>(o => o
                    .SetMessageLimit(options.Int("batch", 100)).SetTimeLimit(TimeSpan.FromMilliseconds(10)).SetConcurrencyLimit(2)));
            });
        });
        await bus.StartAsync();
        try
        {
            await using var publisher = await Publisher.StartAsync(options);
            var jobs = Enumerable.Range(0, options.Int("jobs", 100)).Select(_ => Guid.NewGuid()).ToArray();
            var clock = Stopwatch.StartNew();
            await publisher.PublishFloodAsync(jobs, count);
            var publishSeconds = clock.Elapsed.TotalSeconds;
            await Task.WhenAny(counter.All, Task.Delay(timeout));
            var seconds = clock.Elapsed.TotalSeconds;
            return new
            {
                mode = "consume",
                count,
                consumed = counter.Consumed,
                publish_per_second = Math.Round(count / publishSeconds),
                seconds_until_all_consumed = counter.All.IsCompleted ? Math.Round(seconds, 2) : double.NaN,
                consumed_per_second = Math.Round(counter.Consumed / seconds),
            };
        }
        finally { await bus.StopAsync(); }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<long> CountAsync(NpgsqlDataSource database, Guid[] jobs)
    {
        await using var command = database.CreateCommand("SELECT count(*) FROM progress_events WHERE job_id = ANY (@jobs)");
        command.Parameters.Add(new NpgsqlParameter("jobs", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { Value = jobs });
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }
}

/// <summary>Acknowledges a batch without doing anything with it: the broker and MassTransit, without the database.</summary>
public sealed class AckOnlyConsumer(AckOnlyConsumer.Counter counter) : IConsumer<Batch<ProgressReported>>
{
    public Task Consume(ConsumeContext<Batch<ProgressReported>> context)
    {
        counter.Add(context.Message.Length);
        return Task.CompletedTask;
    }

    public sealed class Counter(long expected)
    {
        private readonly TaskCompletionSource _all = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private long _consumed;

        public long Consumed => Interlocked.Read(ref _consumed);
        public Task All => _all.Task;

        public void Add(int n)
        {
            if (Interlocked.Add(ref _consumed, n) >= expected) _all.TrySetResult();
        }
    }
}
