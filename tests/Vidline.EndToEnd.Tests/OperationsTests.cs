using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using Vidline.Contracts;

namespace Vidline.EndToEnd.Tests;

/// <summary>What an operator relies on, through the real edge: health, readiness, metrics, the API description.</summary>
public class OperationsTests(Pipeline pipeline) : IClassFixture<Pipeline>
{
    private static readonly Dictionary<string, string[]> ReadinessChecks = new()
    {
        ["ingest-api"] = ["postgres", "rabbitmq", "storage"],
        ["progress-gateway"] = ["postgres", "rabbitmq"],
        ["transcoder"] = ["rabbitmq", "storage"],
        ["validator"] = ["rabbitmq", "storage"],
        ["packager"] = ["rabbitmq", "storage"],
    };

    [Fact]
    public async Task Every_service_answers_health_as_json_with_its_name_and_version_and_readiness_with_its_checks()
    {
        using var http = new HttpClient();
        foreach (var service in pipeline.Manifest.Services)
        {
            var baseUrl = pipeline[service.Name].BaseUrl;
            var live = await http.GetFromJsonAsync<JsonElement>($"{baseUrl}/health");
            Assert.Equal("healthy", live.GetProperty("status").GetString());
            Assert.Equal(service.Name, live.GetProperty("service").GetString());
            Assert.False(string.IsNullOrWhiteSpace(live.GetProperty("version").GetString()));
            Assert.DoesNotContain("\\u", await http.GetStringAsync($"{baseUrl}/health")); // readable as it is: 1.0.0+abc, not \u002B

            var ready = await WaitForAsync(() => http.GetAsync($"{baseUrl}/health/ready"), HttpStatusCode.OK);
            Assert.Equal(ReadinessChecks[service.Name], ready.GetProperty("checks").EnumerateObject().Select(c => c.Name).Order());
            Assert.All(ready.GetProperty("checks").EnumerateObject(), c => Assert.Equal("healthy", c.Value.GetProperty("status").GetString()));
        }
    }

    [Fact]
    public async Task The_edge_health_is_the_gateways_view_of_every_services_readiness()
    {
        var health = await WaitForAsync(() => pipeline.Edge.GetAsync("/health/ready"), HttpStatusCode.OK);
        Assert.Equal("healthy", health.GetProperty("status").GetString());
        Assert.Equal("edge", health.GetProperty("service").GetString());
        Assert.False(string.IsNullOrWhiteSpace(health.GetProperty("version").GetString()));
        var services = health.GetProperty("services");
        Assert.Equal(pipeline.Manifest.Services.Select(s => s.Name).Order(), services.EnumerateObject().Select(s => s.Name).Order());
        Assert.All(services.EnumerateObject(), s => Assert.Equal("healthy", s.Value.GetProperty("status").GetString()));

        // A service going away: /health still answers (the edge is alive) but says degraded; /health/ready is 503.
        pipeline["packager"].Kill();
        try
        {
            var live = await pipeline.Edge.GetAsync("/health");
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
            var view = await live.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("degraded", view.GetProperty("status").GetString());
            Assert.Equal("unreachable", view.GetProperty("services").GetProperty("packager").GetProperty("status").GetString());
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await pipeline.Edge.GetAsync("/health/ready")).StatusCode);
        }
        finally
        {
            await pipeline["packager"].StartAsync();
        }
    }

    [Fact]
    public async Task A_node_that_cannot_reach_the_broker_or_write_to_storage_is_live_but_not_ready_and_says_why()
    {
        var blocked = Path.Combine(pipeline.StateDirectory, "not-a-folder");
        await File.WriteAllTextAsync(blocked, "a file where the storage root should be");
        const string secret = "Sentinel-Secret-4711";
        var node = await pipeline.StartAnotherAsync("transcoder", new Dictionary<string, string>
        {
            ["RabbitMq__Password"] = secret,
            ["Storage__Root"] = blocked,
        });
        try
        {
            using var http = new HttpClient();
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"{node.BaseUrl}/health")).StatusCode);
            var ready = await http.GetAsync($"{node.BaseUrl}/health/ready");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            var body = await ready.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("unhealthy", body.GetProperty("status").GetString());
            Assert.Equal(["rabbitmq", "storage"], body.GetProperty("failing").EnumerateArray().Select(f => f.GetString()).Order());
            Assert.Contains(blocked, body.GetProperty("checks").GetProperty("storage").GetProperty("description").GetString());
            // The refused login is logged, as JSON, without the password.
            var log = await WaitForLogAsync(node, line => line.Contains("ACCESS_REFUSED"));
            Assert.DoesNotContain(secret, log);
        }
        finally
        {
            node.Kill();
        }
    }

    [Fact]
    public async Task The_shared_queues_are_quorum_queues_and_exactly_the_ones_the_upgrade_script_converts()
    {
        var queues = await pipeline.QueueTypesAsync();
        var declared = queues
            .Where(q => q.Value == "quorum" && !q.Key.EndsWith("_error") && !q.Key.EndsWith("_skipped"))
            .Select(q => q.Key).Order();
        var script = File.ReadAllLines(Path.Combine(pipeline.RepoRoot, "scripts", "queues.sh"))
            .Single(line => line.StartsWith("QUORUM_QUEUES=("));
        var converted = script["QUORUM_QUEUES=(".Length..script.IndexOf(')')].Split(' ', StringSplitOptions.RemoveEmptyEntries).Order();

        Assert.Equal(converted, declared);
        // The stage queues need priorities, which RabbitMQ 3.10's quorum queues lack (docs/reliability.md).
        Assert.All(Stages.Worked, stage => Assert.Equal("classic", queues[stage.Queue]));
    }

    [Fact]
    public async Task Every_service_exposes_prometheus_metrics_and_a_job_shows_up_in_them()
    {
        using var http = new HttpClient();
        using var allJobs = new HttpRequestMessage(HttpMethod.Get, "/progress/stream");
        using var open = await pipeline.Edge.SendAsync(allJobs, HttpCompletionOption.ResponseHeadersRead);
        Assert.Contains("vidline_sse_clients{stream=\"all\"} 1", await MetricsAsync(http, "progress-gateway"));

        var jobId = await pipeline.SubmitAsync(await pipeline.Clips.ClipAsync("metrics", 640, 360));
        var events = await pipeline.StreamAsync(jobId);
        Assert.True(events[^1].Json.GetProperty("status").GetString() == "completed", $"{events[^1].Json}\n{pipeline.Logs()}");

        // Other tests of this class run jobs too: every series must have counted at least one.
        var ingest = await MetricsAsync(http, "ingest-api");
        AssertCounted(ingest, "vidline_upload_bytes_total");
        Assert.Contains("# TYPE http_server_request_duration_seconds histogram", ingest);

        var transcoder = await MetricsAsync(http, "transcoder");
        AssertCounted(transcoder, "vidline_stage_duration_seconds_count{outcome=\"completed\",stage=\"transcoding\"}");
        AssertCounted(transcoder, "vidline_stage_queue_wait_seconds_count{stage=\"transcoding\"}");
        AssertCounted(transcoder, "vidline_ffmpeg_speed_count{stage=\"transcoding\"}");
        AssertCounted(await MetricsAsync(http, "validator"), "vidline_stage_duration_seconds_count{outcome=\"completed\",stage=\"validation\"}");
        var packager = await MetricsAsync(http, "packager");
        AssertCounted(packager, "vidline_stage_duration_seconds_count{outcome=\"completed\",stage=\"packaging\"}");
        AssertCounted(packager, "vidline_stage_duration_seconds_count{outcome=\"completed\",stage=\"storage\"}");

        var gateway = await MetricsAsync(http, "progress-gateway");
        AssertCounted(gateway, "vidline_jobs_status_changes_total{status=\"completed\"}");
        AssertCounted(gateway, "vidline_progress_events_stored_total");
        AssertCounted(gateway, "vidline_sse_replay_size_count{stream=\"job\"}");
        Assert.Contains("vidline_sse_clients{stream=\"job\"} 0", gateway);
        Assert.Equal(HttpStatusCode.Forbidden, (await pipeline.Edge.GetAsync("/metrics")).StatusCode); // internal, per node
    }

    private static void AssertCounted(string metrics, string series)
    {
        var line = metrics.Split('\n').FirstOrDefault(l => l.StartsWith(series + " "));
        Assert.True(line is not null && double.Parse(line[(series.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture) > 0,
            $"{series} has counted nothing:\n{metrics}");
    }

    [Fact]
    public async Task A_database_password_never_reaches_the_log_even_when_the_database_refuses_it()
    {
        const string secret = "Sentinel-Db-Secret-0815";
        ServiceProcess? node = null;
        var failed = await Assert.ThrowsAnyAsync<Exception>(async () => node = await pipeline.StartAnotherAsync("progress-gateway",
            new Dictionary<string, string> { ["ConnectionStrings__Postgres"] = $"Host=127.0.0.1;Port=5432;Username=postgres;Password={secret};Database=x" }));
        node?.Kill();
        // The exception's message carries the node's log tail.
        Assert.Contains("password authentication failed", failed.Message);
        Assert.DoesNotContain(secret, failed.Message);
    }

    [Fact]
    public async Task Logs_are_json_lines_and_every_stage_logs_the_job_id_as_a_scope()
    {
        var jobId = await pipeline.SubmitAsync(await pipeline.Clips.ClipAsync("logged", 320, 240));
        await pipeline.WaitForStatusAsync(jobId, "completed");

        foreach (var (service, stage) in new[] { ("transcoder", "transcoding"), ("validator", "validation"), ("packager", "storage") })
        {
            var lines = await WaitForLogLinesAsync(pipeline[service], line => line.Contains(jobId.ToString()) && line.Contains($"{stage} attempt"));
            Assert.All(lines, line => Assert.StartsWith("{", line));
            var entry = lines.Select(l => JsonDocument.Parse(l).RootElement)
                .Single(e => e.GetProperty("Message").GetString()!.Contains($"{jobId} {stage} attempt"));
            Assert.Contains("completed", entry.GetProperty("Message").GetString());
            Assert.Equal("Information", entry.GetProperty("LogLevel").GetString());
            Assert.Contains(entry.GetProperty("Scopes").EnumerateArray(), scope => scope.ValueKind == JsonValueKind.Object
                && scope.TryGetProperty("JobId", out var id) && id.GetString() == jobId.ToString()
                && scope.GetProperty("Message").GetString() == $"JobId:{jobId}");
        }
    }

    [Fact]
    public async Task The_edge_serves_one_openapi_document_for_the_whole_public_api_and_a_reference_page()
    {
        var document = JsonDocument.Parse(await pipeline.Edge.GetStringAsync("/openapi.json")).RootElement;

        Assert.Equal("Vidline public API", document.GetProperty("info").GetProperty("title").GetString());
        var operations = document.GetProperty("paths").EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject().Select(op => $"{op.Name.ToUpperInvariant()} {path.Name}")).Order();
        Assert.Equal([
            "GET /jobs", "GET /jobs/{id}", "GET /jobs/{id}/stream", "GET /progress/stats", "GET /progress/stream", "GET /stages",
            "POST /jobs/{id}/cancel", "POST /jobs/{id}/retry", "POST /process", "POST /streams/token",
        ], operations);
        var schemas = document.GetProperty("components").GetProperty("schemas");
        foreach (var schema in new[] { "ProblemDetails", "JobAccepted", "JobCommandReply", "JobView", "JobPage", "ProgressStats" })
            Assert.True(schemas.TryGetProperty(schema, out _), $"no schema {schema}");

        var page = await pipeline.Edge.GetAsync("/api");
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("fetch(\"/openapi.json\")", html);
        Assert.DoesNotMatch("(src|href)=\"(https?:)?//", html); // nothing from a CDN
    }

    [Fact]
    public async Task The_reference_page_renders_every_operation_in_a_browser_with_nothing_from_elsewhere()
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = "/usr/bin/chromium", Headless = true, Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        });
        var page = await browser.NewPageAsync();
        var edge = $"http://127.0.0.1:{pipeline.EdgePort}/";
        var elsewhere = new List<string>();
        page.Request += (_, request) => { if (!request.Url.StartsWith(edge)) elsewhere.Add(request.Url); };

        await page.GotoAsync(edge + "api");

        await Assertions.Expect(page.Locator("section.op")).ToHaveCountAsync(10);
        await Assertions.Expect(page.Locator("#title")).ToContainTextAsync("Vidline public API");
        var upload = page.Locator("section.op", new() { HasText = "Submit a video" });
        await Assertions.Expect(upload.Locator("td", new() { HasText = "multipart/form-data" })).ToBeVisibleAsync();
        await Assertions.Expect(upload.Locator(".problem", new() { HasText = "422" })).ToBeVisibleAsync();
        Assert.Empty(elsewhere);
    }

    /// <summary>A node's log lines, once one matches.</summary>
    private static async Task<IReadOnlyList<string>> WaitForLogLinesAsync(ServiceProcess node, Func<string, bool> until)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var lines = node.Tail(100_000).Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
            if (lines.Any(until)) return lines;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{node.Name} never logged the line:\n{string.Join('\n', lines.TakeLast(30))}");
            await Task.Delay(500);
        }
    }

    private static async Task<string> WaitForLogAsync(ServiceProcess node, Func<string, bool> until) =>
        string.Join('\n', await WaitForLogLinesAsync(node, until));

    private async Task<string> MetricsAsync(HttpClient http, string service)
    {
        using var response = await http.GetAsync($"{pipeline[service].BaseUrl}/metrics");
        response.EnsureSuccessStatusCode();
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>Polls until the answer has <paramref name="status"/> (services become ready shortly after they are live).</summary>
    private async Task<JsonElement> WaitForAsync(Func<Task<HttpResponseMessage>> ask, HttpStatusCode status)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            using var response = await ask();
            var body = await response.Content.ReadAsStringAsync();
            if (response.StatusCode == status) return JsonDocument.Parse(body).RootElement.Clone();
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"still {(int)response.StatusCode}: {body}\n{pipeline.Logs()}");
            await Task.Delay(500);
        }
    }
}
