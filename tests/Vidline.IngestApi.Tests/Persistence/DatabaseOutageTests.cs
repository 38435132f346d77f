using System.Net;
using System.Net.Sockets;
using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Vidline.Contracts;
using Vidline.IngestApi.Jobs;
using Vidline.IngestApi.Persistence;

namespace Vidline.IngestApi.Tests.Persistence;

/// <summary>
/// PostgreSQL out of reach, then back: the saga and the outbox dispatcher reach it through a door the test opens
/// (connection refused until then, as when the server is down), the rest of the test talks to it directly.
/// </summary>
public sealed class DatabaseOutageTests(PostgresTestDatabase db) : IClassFixture<PostgresTestDatabase>, IAsyncLifetime
{
    /// <summary>Longer than the saga's retries for ordinary faults (50 ms … 2 s, about 4 s in all).</summary>
    static readonly TimeSpan Outage = TimeSpan.FromSeconds(6);

    readonly DatabaseDoor _door = new(new NpgsqlConnectionStringBuilder(db.ConnectionString));
    NpgsqlDataSource _throughDoor = null!;

    public Task InitializeAsync()
    {
        _throughDoor = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(db.ConnectionString)
            { Host = "127.0.0.1", Port = _door.Port, Timeout = 2 }.ConnectionString);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _throughDoor.DisposeAsync();
        _door.Dispose();
    }

    [Fact]
    public async Task A_saga_message_that_arrives_while_the_database_is_down_waits_and_is_handled_once_it_is_back()
    {
        var id = NewId.NextGuid();
        await using var provider = SagaOn(_throughDoor);
        var harness = provider.GetRequiredService<ITestHarness>();
        await harness.Start();

        await harness.Bus.Publish(new JobSubmitted(id, "clip.mp4", "tenant", 0, DateTimeOffset.UtcNow));
        await Task.Delay(Outage);
        _door.Open();

        var job = await StoredAsync(id);
        Assert.Equal(Stages.Uploading.Name, job.CurrentState);
        Assert.Empty(harness.Published.Select<Fault<JobSubmitted>>());
    }

    [Fact]
    public async Task A_real_fault_still_faults_while_the_database_is_up()
    {
        _door.Open();
        await using var provider = SagaOn(_throughDoor);
        var harness = provider.GetRequiredService<ITestHarness>();
        await harness.Start();

        // jsonb refuses \u0000: not an outage, so it ends in a fault (the error queue on RabbitMQ) after its retries.
        await harness.Bus.Publish(new JobSubmitted(NewId.NextGuid(), "nul\0key", "tenant", 0, DateTimeOffset.UtcNow));

        await Eventually(() => harness.Published.Select<Fault<JobSubmitted>>().Any(), "the message never faulted");
    }

    [Fact]
    public async Task The_outbox_dispatcher_outlives_the_outage_and_delivers_once_the_database_is_back()
    {
        var id = NewId.NextGuid();
        await using (var transaction = await VideoJobTransaction.BeginAsync(new VideoJobTable(db.DataSource), default))
        {
            await transaction.WriteToOutboxAsync(OutboxMessage.Of(id, new JobCancelled(id)), default);
            await transaction.CommitAsync();
        }
        await using var provider = SagaOn(_throughDoor);
        var harness = provider.GetRequiredService<ITestHarness>();
        await harness.Start();
        var dispatcher = new OutboxDispatcher(new Outbox(_throughDoor), new OutboxSignal(), harness.Bus,
            Options.Create(new OutboxOptions { PollInterval = TimeSpan.FromMilliseconds(500) }), NullLogger<OutboxDispatcher>.Instance);
        await dispatcher.StartAsync(default);

        await Task.Delay(Outage);
        _door.Open();

        await Eventually(() => harness.Published.Select<JobCancelled>().Any(m => m.Context.Message.JobId == id), "the message was never delivered");
        await dispatcher.StopAsync(default);
    }

    static async Task Eventually(Func<bool> condition, string failure)
    {
        for (var i = 0; i < 600 && !condition(); i++) await Task.Delay(100);
        Assert.True(condition(), failure);
    }

    async Task<VideoJobState> StoredAsync(Guid id)
    {
        var jobs = new VideoJobTable(db.DataSource);
        for (var i = 0; i < 600; i++)
        {
            if (await jobs.FindAsync(id, default) is { } job) return job;
            await Task.Delay(100);
        }
        Assert.Fail($"job {id} was never stored");
        return null!;
    }

    /// <summary>The saga as ingest-api runs it (its endpoint's retry policies included) on <paramref name="dataSource"/>.</summary>
    static ServiceProvider SagaOn(NpgsqlDataSource dataSource)
    {
        var services = new ServiceCollection()
            .AddSingleton(dataSource)
            .AddSingleton(new StagePolicy())
            .AddSingleton(TimeProvider.System);
        services.AddMassTransitTestHarness(x =>
        {
            x.ConfigureUsageTelemetryOptions(o => o.Enabled = false);
            x.SetTestTimeouts(testTimeout: TimeSpan.FromSeconds(90), testInactivityTimeout: TimeSpan.FromSeconds(30));
            x.AddSagaStateMachine<VideoJobStateMachine, VideoJobState>(typeof(VideoJobSagaDefinition)).PostgresRepository();
        });
        return services.BuildServiceProvider(true);
    }

    /// <summary>A TCP door to PostgreSQL on a port of its own: closed (connection refused) until opened.</summary>
    sealed class DatabaseDoor(NpgsqlConnectionStringBuilder server) : IDisposable
    {
        readonly TcpListener _listener = new(IPAddress.Loopback, FreePort());
        readonly CancellationTokenSource _closing = new();

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public void Open()
        {
            _listener.Start();
            _ = AcceptAsync();
        }

        async Task AcceptAsync()
        {
            while (!_closing.IsCancellationRequested)
            {
                var client = await _listener.AcceptTcpClientAsync(_closing.Token);
                _ = RelayAsync(client);
            }
        }

        async Task RelayAsync(TcpClient client)
        {
            using (client)
            using (var upstream = new TcpClient())
            {
                await upstream.ConnectAsync(server.Host!, server.Port, _closing.Token);
                await Task.WhenAny(client.GetStream().CopyToAsync(upstream.GetStream(), _closing.Token),
                    upstream.GetStream().CopyToAsync(client.GetStream(), _closing.Token));
            }
        }

        static int FreePort()
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            var port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            return port;
        }

        public void Dispose()
        {
            _closing.Cancel();
            _listener.Stop();
        }
    }
}
