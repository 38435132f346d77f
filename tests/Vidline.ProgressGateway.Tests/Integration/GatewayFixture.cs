using System.Net;
using System.Text.Json;
using MassTransit;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using static Vidline.ProgressGateway.Tests.Integration.Polling;

namespace Vidline.ProgressGateway.Tests.Integration;

/// <summary>
/// Two gateway instances (A and B) sharing one throw-away database and one throw-away RabbitMQ virtual
/// host, like two replicas behind the edge, without touching a system that may be running alongside.
/// One fixture serves every integration test class (see <see cref="GatewayCollection"/>): starting two
/// hosts with their buses is the slow part, and every test works on its own fresh job ids.
/// </summary>
public sealed class GatewayFixture : IAsyncLifetime
{
    private readonly string _suffix = Guid.NewGuid().ToString("N")[..10];
    public BrokerVirtualHost Broker { get; private set; } = null!;

    public string DatabaseName => $"vidline_gw_{_suffix}";
    public string VirtualHost => $"vidline-gw-{_suffix}";
    public string ConnectionString => $"{LocalServers.Postgres};Database={DatabaseName}";
    public string StorageRoot { get; } = Directory.CreateTempSubdirectory("vidline-gw-storage-").FullName;

    public GatewayFactory A { get; private set; } = null!;
    public GatewayFactory B { get; private set; } = null!;
    public NpgsqlDataSource Db { get; private set; } = null!;

    public IBus Bus => A.Services.GetRequiredService<IBus>();

    /// <summary>How the tests read the gateway's state: through instance A's HTTP API, as a client would.</summary>
    private HttpClient _api = null!;

    public async Task InitializeAsync()
    {
        Broker = await BrokerVirtualHost.CreateAsync(VirtualHost);
        A = new GatewayFactory(ConnectionString, VirtualHost, StorageRoot);
        B = new GatewayFactory(ConnectionString, VirtualHost, StorageRoot);
        // Touching Server starts the host: migrations, bus and tailer.
        _ = A.Server;
        _ = B.Server;
        // A message published before the receive endpoint has bound its queue would be dropped by the
        // broker; wait until both buses report their endpoints ready.
        foreach (var factory in new[] { A, B })
        {
            var status = await factory.Services.GetRequiredService<IBusControl>()
                .WaitForHealthStatus(BusHealthStatus.Healthy, TimeSpan.FromSeconds(60));
            Assert.Equal(BusHealthStatus.Healthy, status);
        }
        Db = NpgsqlDataSource.Create(ConnectionString);
        _api = A.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _api.Dispose();
        await A.DisposeAsync();
        await B.DisposeAsync();
        await Db.DisposeAsync();
        await LocalServers.DropDatabaseAsync(DatabaseName);
        await Broker.DisposeAsync();
        Directory.Delete(StorageRoot, recursive: true);
    }

    public async Task<List<long>> StoredIds(Guid job)
    {
        await using var command = Db.CreateCommand("SELECT id FROM progress_events WHERE job_id = @j ORDER BY id");
        command.Parameters.AddWithValue("j", job);
        var ids = new List<long>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) ids.Add(reader.GetInt64(0));
        return ids;
    }

    public async Task WaitForJob(Guid job, string? status = null) =>
        await Eventually(async () =>
        {
            var response = await _api.GetAsync($"/jobs/{job}");
            if (response.StatusCode != HttpStatusCode.OK) return false;
            var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            return status is null || json.GetProperty("status").GetString() == status;
        });

    public async Task<JsonElement> GetJob(Guid job) => await GetJson($"/jobs/{job}");

    public async Task<JsonElement> GetJson(string url, HttpClient? client = null)
    {
        var response = await (client ?? _api).GetAsync(url);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{url}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement;
    }
}

/// <summary>The integration test classes share one <see cref="GatewayFixture"/> and so run one after another.</summary>
[CollectionDefinition(nameof(GatewayFixture))]
public sealed class GatewayCollection : ICollectionFixture<GatewayFixture>;

/// <summary>
/// A gateway in process. Its clients (<c>CreateClient</c>) authenticate as <see cref="TestTenant"/> with a key of their
/// own, stored once the gateway has migrated the database.
/// </summary>
/// <param name="settings">Settings beyond the ones every test host has (e.g. a smaller connection pool).</param>
public sealed class GatewayFactory(string connectionString, string virtualHost, string storageRoot,
    IReadOnlyDictionary<string, string>? settings = null) : WebApplicationFactory<Program>
{
    public const string StreamTokenSecret = "gateway-tests-stream-token-secret-0001";
    public const string OutputSigningSecret = "gateway-tests-output-signing-secret-001";

    private string? _key;

    /// <summary>A client of another tenant than the tests' own, with a new key.</summary>
    public async Task<HttpClient> TenantClientAsync(string tenant)
    {
        var client = CreateDefaultClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", await TestTenant.KeyAsync(connectionString, tenant));
        return client;
    }

    /// <summary>A client that sends no key.</summary>
    public HttpClient AnonymousClient()
    {
        var client = CreateDefaultClient();
        client.DefaultRequestHeaders.Authorization = null;
        return client;
    }

    protected override IHost CreateHost(IHostBuilder builder)
    {
        var host = base.CreateHost(builder);
        _key = TestTenant.KeyAsync(connectionString).GetAwaiter().GetResult();
        return host;
    }

    protected override void ConfigureClient(HttpClient client)
    {
        base.ConfigureClient(client);
        if (_key is not null) client.DefaultRequestHeaders.Authorization = new("Bearer", _key);
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("ConnectionStrings:Postgres", connectionString);
        builder.UseSetting("RabbitMq:Host", "127.0.0.1");
        builder.UseSetting("RabbitMq:VirtualHost", virtualHost);
        builder.UseSetting("Sse:HeartbeatSeconds", "1");
        builder.UseSetting("Storage:Root", storageRoot);
        // Both instances must read each other's stream tokens, as every gateway behind one edge does.
        builder.UseSetting("Streams:TokenSecret", StreamTokenSecret);
        builder.UseSetting("Outputs:SigningSecret", OutputSigningSecret);
        foreach (var (key, value) in settings ?? new Dictionary<string, string>()) builder.UseSetting(key, value);
        builder.ConfigureServices(services => services.Configure<MassTransitHostOptions>(o => o.WaitUntilStarted = true));
    }
}
