using System.Net;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Vidline.ServiceDefaults;

namespace Vidline.ProgressGateway.Tests.Integration;

/// <summary>
/// With every pooled connection taken, a read waits a bounded time for one and is then told 503 + Retry-After:
/// requests do not pile up behind the pool without end.
/// </summary>
public sealed class PoolExhaustionTests : IAsyncLifetime
{
    private readonly string _suffix = Guid.NewGuid().ToString("N")[..10];
    private string Database => $"vidline_gw_pool_{_suffix}";
    private BrokerVirtualHost _broker = null!;
    private GatewayFactory _gateway = null!;
    private string _storage = null!;

    public async Task InitializeAsync()
    {
        _broker = await BrokerVirtualHost.CreateAsync($"vidline-gw-pool-{_suffix}");
        _storage = Directory.CreateTempSubdirectory("vidline-gw-storage-").FullName;
        // Two connections, and a bounded wait for one (Npgsql's Timeout; its default is 15 s). The same Timeout bounds
        // opening a connection: with one second, the gateway once failed to start on a loaded CI machine.
        _gateway = new GatewayFactory($"{LocalServers.Postgres};Database={Database};Timeout=4", _broker.Name, _storage,
            new Dictionary<string, string> { ["Database:MaxPoolSize"] = "2" });
        _ = _gateway.Server;
        Assert.Equal(BusHealthStatus.Healthy, await _gateway.Services.GetRequiredService<IBusControl>()
            .WaitForHealthStatus(BusHealthStatus.Healthy, TimeSpan.FromSeconds(60)));
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await LocalServers.DropDatabaseAsync(Database);
        await _broker.DisposeAsync();
        Directory.Delete(_storage, recursive: true);
    }

    [Fact]
    public async Task A_read_that_cannot_get_a_connection_in_time_is_answered_503_with_retry_after()
    {
        var api = _gateway.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await api.GetAsync("/jobs")).StatusCode);

        // The tailer holds one connection (LISTEN); take the other.
        var pool = _gateway.Services.GetRequiredService<NpgsqlDataSource>();
        await using (await pool.OpenConnectionAsync())
        {
            var response = await api.GetAsync("/jobs");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal(TimeSpan.FromSeconds(OutageAnswer.RetryAfterSeconds), response.Headers.RetryAfter?.Delta);
        }
        Assert.Equal(HttpStatusCode.OK, (await api.GetAsync("/jobs")).StatusCode);
    }
}
