using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Vidline.EndToEnd.Tests;

/// <summary>
/// Errors nginx produces itself answer problem+json like the services do (never nginx's HTML page), with the
/// request id the services' logs carry; the services' own problem+json passes through the edge untouched.
/// </summary>
public class EdgeErrorTests(Pipeline pipeline) : IClassFixture<Pipeline>
{
    [Fact]
    public async Task A_64_KB_header_is_431()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/jobs");
        request.Headers.TryAddWithoutValidation("X-Padding", new string('a', 64 * 1024));
        await AssertEdgeProblemAsync(await pipeline.Edge.SendAsync(request), 431);
    }

    [Fact]
    public async Task A_10_KB_idempotency_key_is_431_before_the_upload_is_read()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/process") { Content = new StringContent("not read") };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", new string('k', 10 * 1024));
        await AssertEdgeProblemAsync(await pipeline.Edge.SendAsync(request), 431);
    }

    [Fact]
    public async Task A_url_with_500_job_ids_is_414()
    {
        var ids = string.Join(',', Enumerable.Range(0, 500).Select(_ => Guid.NewGuid()));
        await AssertEdgeProblemAsync(await pipeline.Edge.GetAsync($"/jobs?jobs={ids}"), 414);
    }

    [Fact]
    public async Task A_body_over_a_small_limit_is_413_as_soon_as_its_length_is_announced()
    {
        // A command takes the edge's default limit (16 MB); the body is announced, never sent: nginx answers at once.
        var (status, contentType, body) = await RawExchangeAsync(
            $"POST /jobs/{Guid.NewGuid()}/cancel HTTP/1.1\r\nHost: edge\r\nContent-Length: {20 * 1024 * 1024}\r\n\r\n");
        Assert.Equal(413, status);
        Assert.Equal("application/problem+json", contentType);
        AssertProblemBody(body, 413);
    }

    [Fact]
    public async Task An_unreadable_request_is_400()
    {
        var (status, contentType, body) = await RawExchangeAsync("GET /jobs HTTP/1.1\r\nContent-Length: many\r\n\r\n");
        Assert.Equal(400, status);
        Assert.Equal("application/problem+json", contentType);
        AssertProblemBody(body, 400);
    }

    [Fact]
    public async Task A_missing_output_is_404_and_internal_metrics_are_403()
    {
        await AssertEdgeProblemAsync(await pipeline.Edge.GetAsync($"/outputs/{Guid.NewGuid():N}/master.m3u8"), 404);
        await AssertEdgeProblemAsync(await pipeline.Edge.GetAsync("/metrics"), 403);
    }

    [Fact]
    public async Task The_services_own_problems_pass_through_unchanged()
    {
        var id = Guid.NewGuid();
        var response = await pipeline.Edge.GetAsync($"/jobs/{id}");
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        // The gateway's words, not the edge's generic ones.
        Assert.Contains(id.ToString(), JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString());
        Assert.False(JsonDocument.Parse(body).RootElement.TryGetProperty("request_id", out _), body);
    }

    [Fact]
    public async Task With_the_gateway_stopped_the_edge_answers_502()
    {
        pipeline["progress-gateway"].Kill();
        try
        {
            await AssertEdgeProblemAsync(await pipeline.Edge.GetAsync("/jobs"), 502);
        }
        finally
        {
            await pipeline.RestoreAsync();
        }
    }

    [Fact]
    public async Task One_address_holding_its_allowance_of_streams_gets_429_for_the_next()
    {
        const int allowance = 3;
        await pipeline.ReconfigureEdgeAsync(new Dictionary<string, string> { ["EDGE_STREAMS_PER_IP"] = allowance.ToString() });
        var held = new List<HttpResponseMessage>();
        try
        {
            for (var i = 0; i < allowance; i++)
            {
                var stream = await OpenStreamAsync();
                held.Add(stream);
                Assert.Equal(HttpStatusCode.OK, stream.StatusCode);
            }
            await AssertEdgeProblemAsync(await OpenStreamAsync(), 429);
            // Other requests from the same address have their own allowance.
            Assert.Equal(HttpStatusCode.OK, (await pipeline.Edge.GetAsync("/jobs")).StatusCode);
        }
        finally
        {
            foreach (var stream in held) stream.Dispose();
            await pipeline.ReconfigureEdgeAsync(new Dictionary<string, string>());
        }
    }

    private Task<HttpResponseMessage> OpenStreamAsync()
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/progress/stream");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        return pipeline.Edge.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    }

    private static async Task AssertEdgeProblemAsync(HttpResponseMessage response, int status)
    {
        using (response)
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.True((int)response.StatusCode == status, $"expected {status}, got {(int)response.StatusCode}: {body}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var requestId = AssertProblemBody(body, status);
            Assert.Equal(requestId, Assert.Single(response.Headers.GetValues("X-Request-ID")));
            // Only the answers that mean "later" say when to come back.
            Assert.Equal(status is 429 or 502 or 503 or 504, response.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        }
    }

    /// <summary>The problem's fields; returns its request id (nginx's $request_id: 32 hex digits).</summary>
    private static string AssertProblemBody(string body, int status)
    {
        Assert.DoesNotContain("<html", body, StringComparison.OrdinalIgnoreCase);
        var problem = JsonDocument.Parse(body).RootElement;
        Assert.Equal(status, problem.GetProperty("status").GetInt32());
        Assert.StartsWith("https://tools.ietf.org/html/rfc", problem.GetProperty("type").GetString());
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("title").GetString()));
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("detail").GetString()));
        var requestId = problem.GetProperty("request_id").GetString()!;
        Assert.Matches("^[0-9a-f]{32}$", requestId);
        return requestId;
    }

    /// <summary>Sends a request head as written (what HttpClient refuses to send) and reads the answer to its end.</summary>
    private async Task<(int Status, string? ContentType, string Body)> RawExchangeAsync(string head)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, pipeline.EdgePort);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var answer = await reader.ReadToEndAsync(timeout.Token); // the edge closes the connection after such an error
        var parts = answer.Split("\r\n\r\n", 2);
        var lines = parts[0].Split("\r\n");
        var contentType = lines.Skip(1).Select(l => l.Split(':', 2)).Where(h => h[0].Equals("Content-Type", StringComparison.OrdinalIgnoreCase))
            .Select(h => h[1].Trim()).FirstOrDefault();
        return (int.Parse(lines[0].Split(' ')[1]), contentType, parts.Length > 1 ? parts[1] : "");
    }
}
