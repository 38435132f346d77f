using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Vidline.EndToEnd.Tests;

/// <summary>
/// API keys and tenants through the real edge: keys made, listed and revoked with scripts/keys.sh, every job endpoint
/// closed without one, and a second tenant that sees nothing of the first one's job.
/// </summary>
public class TenantTests(Pipeline pipeline) : IClassFixture<Pipeline>
{
    [Fact]
    public async Task Another_tenant_sees_nothing_of_a_job_and_cannot_touch_it()
    {
        using var other = await pipeline.NewTenantClientAsync("other-tenant");
        // Open before anything happens: every event stored from now on passes this stream's filter, or is kept from it.
        using var watching = new HttpRequestMessage(HttpMethod.Get, "/progress/stream");
        using var stream = await other.SendAsync(watching, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, stream.StatusCode);
        var seen = new List<SseEvent>();
        var otherJob = new TaskCompletionSource<Guid>();
        var otherDone = new TaskCompletionSource();
        using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var reading = SseEvent.ReadAsync(await stream.Content.ReadAsStreamAsync(), e =>
        {
            lock (seen) seen.Add(e);
            if (e.Type == "done" && otherJob.Task.IsCompleted && JobOf(e) == otherJob.Task.Result) otherDone.TrySetResult();
        }, () => { }, stop.Token);

        var jobId = await pipeline.SubmitAsync(await pipeline.Clips.ClipAsync("tenant-a", 320, 240));
        var events = await pipeline.StreamAsync(jobId);
        Assert.Equal("completed", events[^1].Json.GetProperty("status").GetString());

        // The other tenant: exactly as if the job did not exist.
        var missing = Guid.NewGuid();
        foreach (var (method, path) in new[] { (HttpMethod.Get, ""), (HttpMethod.Get, "/stream"), (HttpMethod.Post, "/cancel"), (HttpMethod.Post, "/retry") })
        {
            var foreign = await other.SendAsync(new HttpRequestMessage(method, $"/jobs/{jobId}{path}"));
            var absent = await other.SendAsync(new HttpRequestMessage(method, $"/jobs/{missing}{path}"));
            Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);
            Assert.Equal("application/problem+json", foreign.Content.Headers.ContentType?.MediaType);
            Assert.Equal(Detail(await absent.Content.ReadAsStringAsync()).Replace(missing.ToString(), jobId.ToString()),
                Detail(await foreign.Content.ReadAsStringAsync()));
        }
        var page = await other.GetFromJsonAsync<JsonElement>("/jobs?limit=200");
        Assert.DoesNotContain(jobId, page.GetProperty("items").EnumerateArray().Select(j => j.GetProperty("id").GetGuid()));
        Assert.Equal("completed", (await pipeline.JobAsync(jobId)).GetProperty("status").GetString()); // untouched

        // The other tenant's own job, after the first one finished: its stream shows that job, and never the first.
        otherJob.SetResult(await pipeline.SubmitAsync(await pipeline.Clips.ClipAsync("tenant-b", 320, 240), client: other));
        await otherDone.Task.WaitAsync(stop.Token);
        await stop.CancelAsync();
        await Task.WhenAny(reading);
        lock (seen)
        {
            Assert.NotEmpty(seen);
            Assert.All(seen, e => Assert.Equal(otherJob.Task.Result, JobOf(e)));
        }
    }

    [Fact]
    public async Task Keys_made_listed_and_revoked_with_keys_sh_and_no_key_gets_401_problem_json_through_the_edge()
    {
        var key = await pipeline.CreateKeyAsync("revoked-tenant");
        Assert.Matches("^vl_[A-Za-z0-9_-]{43}$", key);
        // Jobs from before API keys belong to "anonymous": no key may be made for it, nor for a name keys.sh cannot quote.
        foreach (var reserved in new[] { "anonymous", "Acme", "a;b", "" })
            await Assert.ThrowsAsync<InvalidOperationException>(() => pipeline.CreateKeyAsync(reserved));
        using var client = new HttpClient { BaseAddress = pipeline.Edge.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/jobs")).StatusCode);

        var listed = (await pipeline.KeysAsync("list")).Split('\n').Single(line => line.Contains(key[..10]));
        Assert.StartsWith("revoked-tenant", listed);
        Assert.DoesNotContain(key, await pipeline.KeysAsync("list")); // only the prefix is shown
        await pipeline.KeysAsync("revoke", key[..10]);
        Assert.EndsWith("Z", (await pipeline.KeysAsync("list")).Split('\n').Single(line => line.Contains(key[..10])).TrimEnd());

        var revoked = await client.GetAsync("/jobs");
        Assert.Equal(HttpStatusCode.Unauthorized, revoked.StatusCode);
        Assert.Contains("unknown or revoked", Detail(await revoked.Content.ReadAsStringAsync()));

        using var anonymous = new HttpClient { BaseAddress = pipeline.Edge.BaseAddress };
        foreach (var path in new[] { "/jobs", "/progress/stream", "/progress/stats" })
        {
            var response = await anonymous.GetAsync(path, HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal("Bearer", response.Headers.WwwAuthenticate.ToString());
        }
        var upload = await anonymous.PostAsync("/process", new MultipartFormDataContent { { new StringContent("x"), "key" } });
        Assert.Equal(HttpStatusCode.Unauthorized, upload.StatusCode);
        foreach (var path in new[] { "/", "/health", "/stages", "/openapi.json" })
            Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync(path)).StatusCode);
    }

    /// <summary>The job an event is about: <c>id</c> in a status snapshot, <c>job_id</c> in the others.</summary>
    private static Guid JobOf(SseEvent e) =>
        (e.Json.TryGetProperty("job_id", out var id) ? id : e.Json.GetProperty("id")).GetGuid();

    private static string Detail(string problem) => JsonDocument.Parse(problem).RootElement.GetProperty("detail").GetString()!;
}
