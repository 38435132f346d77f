using System.Net;
using System.Text.Json;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Vidline.Contracts;
using static Vidline.ProgressGateway.Tests.Integration.Polling;

namespace Vidline.ProgressGateway.Tests.Integration;

/// <summary>
/// The gateway's limits, on a gateway of their own (its own database, so a test may expire every older job): open
/// streams per tenant, Last-Event-IDs outside the stored history, CORS, AllowedHosts, request timeouts, and what
/// <c>/progress/stats</c> tells about the host.
/// </summary>
public sealed class GatewayLimitsTests : IAsyncLifetime
{
    private const int StreamsPerTenant = 2;
    private const string ListedOrigin = "https://app.example";
    private readonly string _suffix = Guid.NewGuid().ToString("N")[..10];
    private string Database => $"vidline_gw_limits_{_suffix}";
    private BrokerVirtualHost _broker = null!;
    private GatewayFactory _gateway = null!;
    private HttpClient _api = null!;
    private string _storage = null!;

    private EventLog Log => _gateway.Services.GetRequiredService<EventLog>();

    public async Task InitializeAsync()
    {
        _broker = await BrokerVirtualHost.CreateAsync($"vidline-gw-limits-{_suffix}");
        _storage = Directory.CreateTempSubdirectory("vidline-gw-storage-").FullName;
        _gateway = new GatewayFactory($"{LocalServers.Postgres};Database={Database}", _broker.Name, _storage,
            new Dictionary<string, string>
            {
                ["RateLimits:StreamsPerTenant"] = StreamsPerTenant.ToString(),
                ["Cors:AllowedOrigins"] = ListedOrigin,
                ["RequestTimeouts:Seconds"] = "1",
            });
        _ = _gateway.Server;
        Assert.Equal(BusHealthStatus.Healthy, await _gateway.Services.GetRequiredService<IBusControl>()
            .WaitForHealthStatus(BusHealthStatus.Healthy, TimeSpan.FromSeconds(60)));
        _api = _gateway.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _api.Dispose();
        await _gateway.DisposeAsync();
        await LocalServers.DropDatabaseAsync(Database);
        await _broker.DisposeAsync();
        Directory.Delete(_storage, recursive: true);
    }

    [Fact]
    public async Task A_tenant_holds_at_most_its_share_of_open_streams_and_gets_429_with_Retry_After_beyond_it()
    {
        await Eventually(async () => await ConnectedClients() == 0);
        var open = new List<SseClient>();
        for (var i = 0; i < StreamsPerTenant; i++)
        {
            open.Add(await SseClient.OpenAsync(_api, "/progress/stream"));
            Assert.Equal(HttpStatusCode.OK, open[^1].Response.StatusCode);
        }

        var refused = await _api.GetAsync($"/jobs/{Guid.NewGuid()}/stream");
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.True(refused.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));

        // The limit is on streams open at once: one closed, another may open.
        await open[0].DisposeAsync();
        await Eventually(async () => await ConnectedClients() == StreamsPerTenant - 1);
        await using var again = await SseClient.OpenAsync(_api, "/progress/stream");
        Assert.Equal(HttpStatusCode.OK, again.Response.StatusCode);
        foreach (var stream in open.Skip(1)) await stream.DisposeAsync();
    }

    [Fact]
    public async Task A_Last_Event_ID_beyond_the_newest_event_starts_from_a_snapshot_and_the_stream_still_ends_with_done()
    {
        var running = Guid.NewGuid();
        await Log.ApplyStatusAsync(Messages.Status(running, JobStatuses.Processing, Stages.Transcoding), default);
        var finished = Guid.NewGuid();
        await Log.ApplyStatusAsync(Messages.Status(finished, JobStatuses.Processing, Stages.Transcoding), default);
        await Log.ApplyStatusAsync(Messages.Status(finished, JobStatuses.Completed, Stages.Storage, result: Messages.Result(finished)), default);
        var neverIssued = (await NewestId() + 1_000_000).ToString();

        // A finished job: its status and its done, then the end.
        await using (var stream = await SseClient.OpenAsync(_api, $"/jobs/{finished}/stream", lastEventIdHeader: neverIssued))
            Assert.Equal([EventTypes.Status, EventTypes.Done], (await stream.ReadToEndAsync()).Select(e => e.Event));

        // A running job: its status now, and its done when it comes (not skipped as "already seen").
        await using var live = await SseClient.OpenAsync(_api, $"/jobs/{running}/stream?lastEventId={neverIssued}");
        Assert.Equal("processing", (await live.ExpectAsync(EventTypes.Status)).Json.GetProperty("status").GetString());
        Assert.Contains(live.Comments, c => c.Contains("newer than any event"));
        await Log.ApplyStatusAsync(Messages.Status(running, JobStatuses.Completed, Stages.Storage, result: Messages.Result(running)), default);
        Assert.Equal([EventTypes.Done], (await live.ReadToEndAsync()).Select(e => e.Event));
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("-5")]
    [InlineData("99999999999999999999")]
    public async Task A_Last_Event_ID_that_no_stream_sent_is_refused_with_400_problem_json_on_both_streams(string lastEventId)
    {
        var job = Guid.NewGuid();
        await Log.ApplyStatusAsync(Messages.Status(job, JobStatuses.Processing, Stages.Transcoding), default);
        foreach (var path in new[] { $"/jobs/{job}/stream", $"/progress/stream?jobs={job}" })
        {
            using var byHeader = new HttpRequestMessage(HttpMethod.Get, path);
            byHeader.Headers.TryAddWithoutValidation("Last-Event-ID", lastEventId);
            await AssertRefused(await _api.SendAsync(byHeader, HttpCompletionOption.ResponseHeadersRead));
            var separator = path.Contains('?') ? '&' : '?';
            await AssertRefused(await _api.GetAsync($"{path}{separator}lastEventId={Uri.EscapeDataString(lastEventId)}",
                HttpCompletionOption.ResponseHeadersRead));
        }

        static async Task AssertRefused(HttpResponseMessage response)
        {
            using (response)
            {
                Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
                Assert.Contains("Last-Event-ID", await response.Content.ReadAsStringAsync());
            }
        }
    }

    [Fact]
    public async Task A_Last_Event_ID_older_than_the_retained_history_gets_a_status_snapshot_not_a_replay()
    {
        var expired = Guid.NewGuid();
        await Log.ApplyStatusAsync(Messages.Status(expired, JobStatuses.Failed, Stages.Transcoding, error: "old"), default);
        var job = Guid.NewGuid();
        await Log.ApplyStatusAsync(Messages.Status(job, JobStatuses.Processing, Stages.Transcoding), default);
        await Log.AppendProgressAsync([Messages.Progress(job, Stages.Transcoding, 40)], default);
        // Retention: every job older than this one expires, and its events with it.
        await using (var older = _gateway.Services.GetRequiredService<NpgsqlDataSource>().CreateCommand(
                         "DELETE FROM jobs WHERE id <> @job"))
        {
            older.Parameters.AddWithValue("job", job);
            await older.ExecuteNonQueryAsync();
        }

        foreach (var url in new[] { $"/progress/stream?jobs={job}&lastEventId=0", $"/jobs/{job}/stream?lastEventId=0" })
        {
            await using var stream = await SseClient.OpenAsync(_api, url);
            var first = await stream.ExpectAsync(EventTypes.Status);
            Assert.Equal(job, first.Json.GetProperty("id").GetGuid());
            Assert.Equal(await NewestId(), first.Id);
            Assert.Contains(stream.Comments, c => c.Contains("older than the retained history"));
        }
    }

    [Fact]
    public async Task Stats_name_the_instance_without_its_host_name_or_process_id()
    {
        var id = (await Json(await _api.GetAsync("/progress/stats"))).GetProperty("instance_id").GetString()!;

        Assert.Matches("^gw-[0-9a-f]{12}$", id);
        Assert.DoesNotContain(Environment.MachineName, id, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_CORS_preflight_is_allowed_only_for_a_listed_origin()
    {
        Assert.Null(await AllowedOrigin("https://elsewhere.example"));
        Assert.Equal(ListedOrigin, await AllowedOrigin(ListedOrigin));
    }

    [Fact]
    public async Task A_request_for_a_host_not_in_AllowedHosts_is_refused_with_400_problem_json()
    {
        var refused = await _api.GetAsync("http://attacker.example/jobs");
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);

        Assert.Equal(HttpStatusCode.OK, (await _api.GetAsync("http://127.0.0.1:8080/jobs")).StatusCode);
    }

    [Fact]
    public async Task A_slow_request_times_out_with_504_problem_json_while_an_event_stream_outlives_the_timeout()
    {
        var job = Guid.NewGuid();
        await Log.ApplyStatusAsync(Messages.Status(job, JobStatuses.Processing, Stages.Transcoding), default);
        await using var stream = await SseClient.OpenAsync(_api, $"/jobs/{job}/stream");
        await stream.ExpectAsync(EventTypes.Status);

        // The jobs table locked for longer than the one-second timeout: the listing waits, and is stopped.
        await using (var connection = await _gateway.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync())
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await using (var lockJobs = new NpgsqlCommand("LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE", connection, transaction))
                await lockJobs.ExecuteNonQueryAsync();
            var slow = await _api.GetAsync("/jobs");
            Assert.Equal(HttpStatusCode.GatewayTimeout, slow.StatusCode);
            Assert.Equal("application/problem+json", slow.Content.Headers.ContentType?.MediaType);
            await transaction.RollbackAsync();
        }

        // The stream has been open for longer than the timeout, and still delivers the end.
        await Log.ApplyStatusAsync(Messages.Status(job, JobStatuses.Completed, Stages.Storage, result: Messages.Result(job)), default);
        Assert.Equal(EventTypes.Done, (await stream.ReadToEndAsync()).Last().Event);
    }

    private async Task<string?> AllowedOrigin(string origin)
    {
        using var preflight = new HttpRequestMessage(HttpMethod.Options, "/progress/stream");
        preflight.Headers.Add("Origin", origin);
        preflight.Headers.Add("Access-Control-Request-Method", "GET");
        preflight.Headers.Add("Access-Control-Request-Headers", "authorization,last-event-id");
        var response = await _api.SendAsync(preflight);
        return response.Headers.TryGetValues("Access-Control-Allow-Origin", out var values) ? values.Single() : null;
    }

    private async Task<int> ConnectedClients() =>
        (await Json(await _api.GetAsync("/progress/stats"))).GetProperty("connected_clients").GetProperty("total").GetInt32();

    private async Task<long> NewestId()
    {
        await using var command = _gateway.Services.GetRequiredService<NpgsqlDataSource>().CreateCommand("SELECT max(id) FROM progress_events");
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static async Task<JsonElement> Json(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        return JsonDocument.Parse(body).RootElement;
    }
}
