using System.Net;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Vidline.Contracts;
using Vidline.ProgressGateway.Consumers;
using static Vidline.ProgressGateway.Tests.Integration.Polling;

namespace Vidline.ProgressGateway.Tests.Integration;

/// <summary>
/// PostgreSQL goes away and comes back (a cluster of the test's own, so the shared server is never touched):
/// events published meanwhile wait in RabbitMQ and are all stored once, nothing reaches the error queue, readers
/// are told 503 + Retry-After, and a stream that was open carries on without a gap or a duplicate.
/// </summary>
public sealed class DatabaseOutageTests : IAsyncLifetime
{
    /// <summary>
    /// Longer than the bus-wide retry (5 exponential retries, about 15 s in all) would wait: without the outage
    /// retry, the events would be in the error queue by the time the database returns.
    /// </summary>
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(25);

    private readonly string _suffix = Guid.NewGuid().ToString("N")[..10];
    private PrivatePostgres _postgres = null!;
    private BrokerVirtualHost _broker = null!;
    private GatewayFactory _gateway = null!;
    private string _storage = null!;

    public async Task InitializeAsync()
    {
        _postgres = await PrivatePostgres.StartNewAsync();
        _broker = await BrokerVirtualHost.CreateAsync($"vidline-gw-outage-{_suffix}");
        _storage = Directory.CreateTempSubdirectory("vidline-gw-storage-").FullName;
        _gateway = new GatewayFactory(_postgres.ConnectionString("vidline"), _broker.Name, _storage);
        _ = _gateway.Server;
        Assert.Equal(BusHealthStatus.Healthy, await _gateway.Services.GetRequiredService<IBusControl>()
            .WaitForHealthStatus(BusHealthStatus.Healthy, TimeSpan.FromSeconds(60)));
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        await _postgres.DisposeAsync();
        await _broker.DisposeAsync();
        Directory.Delete(_storage, recursive: true);
    }

    [Fact]
    public async Task Events_published_while_the_database_is_down_are_stored_once_after_it_returns()
    {
        var bus = _gateway.Services.GetRequiredService<IBus>();
        var api = _gateway.CreateClient();
        await using var db = NpgsqlDataSource.Create(_postgres.ConnectionString("vidline"));
        var (job, expiring) = (Guid.NewGuid(), Guid.NewGuid());
        await bus.Publish(Messages.Status(job, JobStatuses.Processing, Stages.Transcoding));
        await bus.Publish(Messages.Status(expiring, JobStatuses.Completed, Stages.Storage, result: Messages.Result(expiring)));
        await Eventually(async () => (await api.GetAsync($"/jobs/{job}")).IsSuccessStatusCode
                                     && (await api.GetAsync($"/jobs/{expiring}")).IsSuccessStatusCode);

        await using var stream = await SseClient.OpenAsync(api, $"/jobs/{job}/stream");
        await stream.ExpectAsync(EventTypes.Status);

        // A key the gateway has not looked up yet: during the outage it cannot be checked.
        using var unseen = await _gateway.TenantClientAsync("unseen");

        await _postgres.StopAsync();

        // Readers are told to come back later; a key that cannot be looked up is not called wrong (401).
        foreach (var (client, url) in new[]
                 { (api, "/jobs"), (api, $"/jobs/{job}"), (api, $"/jobs/{job}/stream"), (api, "/progress/stream"), (unseen, "/jobs") })
        {
            var response = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.NotNull(response.Headers.RetryAfter?.Delta);
        }

        // Every kind of event the gateway stores, published while nothing can be stored.
        var published = new List<Guid>();
        for (var p = 10; p <= 90; p += 10)
        {
            var progress = Messages.Progress(job, Stages.Transcoding, p);
            published.Add(progress.EventId);
            await bus.Publish(progress);
        }
        var warning = Messages.Warning(job, Stages.Transcoding, "odd audio");
        var moved = Messages.Status(job, JobStatuses.Processing, Stages.Validation, attempt: 2);
        published.AddRange([warning.EventId, moved.EventId]);
        await bus.Publish(warning);
        await bus.Publish(moved);
        await bus.Publish(new JobExpired(expiring));

        // They are taken and held (unacknowledged), not faulted, for as long as the outage lasts.
        await Eventually(async () => await _broker.MessagesInAsync(GatewayEndpoint.Name) == published.Count + 1);
        await Task.Delay(Outage);
        Assert.Equal(0, await _broker.MessagesInAsync($"{GatewayEndpoint.Name}_error"));

        await _postgres.StartAsync();

        await Eventually(async () => await StoredMessageIds(db, job) is var stored && published.All(stored.Contains), timeoutSeconds: 60);
        await Eventually(async () => (await api.GetAsync($"/jobs/{expiring}")).StatusCode == HttpStatusCode.NotFound, timeoutSeconds: 60);
        await Eventually(async () => await _broker.MessagesInAsync(GatewayEndpoint.Name) == 0);
        Assert.Equal(0, await _broker.MessagesInAsync($"{GatewayEndpoint.Name}_error"));
        Assert.Equal(published.Count + 1, (await StoredMessageIds(db, job)).Count); // the first status, and each of these once

        // The stream opened before the outage kept its connection (heartbeats) and now carries on from the store.
        await bus.Publish(Messages.Status(job, JobStatuses.Completed, Stages.Storage, result: Messages.Result(job)));
        var received = await stream.ReadToEndAsync(TimeSpan.FromSeconds(60));
        Assert.Contains("heartbeat", stream.Comments);
        Assert.Equal((await StoredIds(db, job)).Skip(1), received.Select(e => e.Id!.Value));
        Assert.Equal(EventTypes.Done, received[^1].Event);
    }

    private static async Task<List<long>> StoredIds(NpgsqlDataSource db, Guid job) =>
        await Column(db, job, "id", r => r.GetInt64(0));

    private static async Task<List<Guid>> StoredMessageIds(NpgsqlDataSource db, Guid job)
    {
        try { return await Column(db, job, "message_id", r => r.GetGuid(0)); }
        catch (NpgsqlException) { return []; } // the server is still starting
    }

    private static async Task<List<T>> Column<T>(NpgsqlDataSource db, Guid job, string column, Func<NpgsqlDataReader, T> read)
    {
        await using var command = db.CreateCommand($"SELECT {column} FROM progress_events WHERE job_id = @j ORDER BY id");
        command.Parameters.AddWithValue("j", job);
        var values = new List<T>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) values.Add(read(reader));
        return values;
    }
}
