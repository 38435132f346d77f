using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Vidline.Contracts;
using Vidline.ProgressGateway.Access;

namespace Vidline.ProgressGateway.Tests.Integration;

/// <summary>Stream tokens: issued by POST /streams/token, accepted by the two stream endpoints as ?access_token= or cookie.</summary>
[Collection(nameof(GatewayFixture))]
public class StreamTokenTests(GatewayFixture fixture)
{
    private readonly HttpClient _a = fixture.A.CreateClient();
    private readonly HttpClient _b = fixture.B.CreateClient();

    // Clients that send no API key: only the stream token lets them in (an Authorization header would win over it).
    private readonly HttpClient _tokenOnlyA = fixture.A.AnonymousClient();
    private readonly HttpClient _tokenOnlyB = fixture.B.AnonymousClient();

    private async Task<(string Token, DateTimeOffset ExpiresAt, HttpResponseMessage Response)> IssueAsync(object? body = null)
    {
        var response = await _a.PostAsync("/streams/token", body is null ? null : JsonContent.Create(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        var json = JsonDocument.Parse(text).RootElement;
        return (json.GetProperty("token").GetString()!, json.GetProperty("expires_at").GetDateTimeOffset(), response);
    }

    private async Task<Guid> StartedJobAsync()
    {
        var job = Guid.NewGuid();
        await fixture.Bus.Publish(Messages.Status(job, JobStatuses.Processing, Stages.Transcoding));
        await fixture.WaitForJob(job);
        return job;
    }

    [Fact]
    public async Task A_token_is_answered_in_the_body_and_as_a_strict_http_only_cookie()
    {
        var (token, expiresAt, response) = await IssueAsync(new { ttl_seconds = 120 });
        Assert.InRange(expiresAt, DateTimeOffset.UtcNow.AddSeconds(60), DateTimeOffset.UtcNow.AddSeconds(180));
        var cookie = Assert.Single(response.Headers.GetValues("Set-Cookie"));
        Assert.StartsWith($"vidline_stream={token};", cookie);
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("path=/", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
    }

    [Theory]
    [InlineData("""{"ttl_seconds": 0}""", "ttl_seconds")]
    [InlineData("""{"ttl_seconds": 3601}""", "ttl_seconds")]
    [InlineData("""{"jobs": []}""", "jobs")]
    [InlineData("""{"jobs": ["not-a-job"]}""", "not-a-job")]
    [InlineData("""{"jobs": "x"}""", "JSON object")]
    [InlineData("""[1,2""", "JSON object")]
    public async Task A_bad_request_for_a_token_is_answered_400_with_what_was_wrong(string body, string detail)
    {
        var response = await _a.PostAsync("/streams/token", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(detail, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task More_than_a_hundred_jobs_are_refused()
    {
        var jobs = Enumerable.Range(0, 101).Select(_ => Guid.NewGuid()).ToArray();
        var response = await _a.PostAsync("/streams/token", JsonContent.Create(new { jobs }));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task A_token_in_the_query_opens_a_job_stream_on_another_instance_and_its_done_carries_signed_urls()
    {
        var job = await StartedJobAsync();
        var (token, _, _) = await IssueAsync();

        await using var stream = await SseClient.OpenAsync(_tokenOnlyB, $"/jobs/{job}/stream?access_token={token}");
        Assert.Equal(HttpStatusCode.OK, stream.Response.StatusCode);
        await stream.ExpectAsync(EventTypes.Status);
        await fixture.Bus.Publish(Messages.Status(job, JobStatuses.Completed, Stages.Storage, result: Messages.Result(job)));
        var done = await stream.ExpectAsync(EventTypes.Done);

        var hls = done.Json.GetProperty("result").GetProperty("hls_manifest_url").GetString()!;
        var parts = hls.Split('/');
        var links = fixture.B.Services.GetRequiredService<OutputLinks>();
        Assert.Equal($"/outputs/{parts[2]}/{links.Signature(long.Parse(parts[2]), job.ToString("N"))}/{job:N}/hls/master.m3u8", hls);
        // The job's own result, read over the API, is signed the same way.
        var read = (await fixture.GetJob(job)).GetProperty("result");
        Assert.StartsWith("/outputs/", read.GetProperty("dash_manifest_url").GetString());
        Assert.DoesNotContain($"/outputs/{job:N}/", read.GetRawText());
    }

    [Fact]
    public async Task A_token_in_the_cookie_opens_the_all_jobs_stream()
    {
        var job = await StartedJobAsync();
        var (token, _, _) = await IssueAsync(new { jobs = new[] { job } });
        var request = new HttpRequestMessage(HttpMethod.Get, "/progress/stream");
        request.Headers.Add("Cookie", $"vidline_stream={token}");
        request.Headers.Accept.ParseAdd("text/event-stream");
        using var response = await _tokenOnlyB.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_token_scoped_to_jobs_opens_only_their_streams_and_the_all_jobs_stream_shows_only_them()
    {
        var (mine, other) = (await StartedJobAsync(), await StartedJobAsync());
        var (token, _, _) = await IssueAsync(new { jobs = new[] { mine } });

        var refused = await _tokenOnlyA.GetAsync($"/jobs/{other}/stream?access_token={token}");
        Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);

        // Asking for both jobs by ?jobs= does not widen the token.
        await using var stream = await SseClient.OpenAsync(_tokenOnlyA, $"/progress/stream?jobs={mine},{other}&access_token={token}");
        var snapshot = await stream.ExpectAsync(EventTypes.Status);
        Assert.Equal(mine, snapshot.Json.GetProperty("id").GetGuid());
        await fixture.Bus.Publish(Messages.Progress(other, Stages.Transcoding, 30));
        await fixture.Bus.Publish(Messages.Progress(mine, Stages.Transcoding, 40));
        var next = await stream.ExpectAsync(EventTypes.Progress);
        Assert.Equal(mine, next.Json.GetProperty("job_id").GetGuid());
        Assert.Equal(40, next.Json.GetProperty("stage_progress").GetDouble());
    }

    [Fact]
    public async Task An_expired_token_is_answered_401_expired_and_a_tampered_one_401_invalid()
    {
        var job = await StartedJobAsync();
        var tokens = fixture.A.Services.GetRequiredService<StreamTokens>();
        var expired = tokens.Issue(new StreamGrant("anonymous", null, DateTimeOffset.UtcNow.AddSeconds(-1)));
        var (valid, _, _) = await IssueAsync();
        var tampered = valid[..^2] + (valid[^2] == 'A' ? "BB" : "AA");

        foreach (var (token, title) in new[] { (expired, "Stream token expired"), (tampered, "Stream token invalid"), ("garbage", "Stream token invalid") })
        foreach (var url in new[] { $"/jobs/{job}/stream", "/progress/stream" })
        {
            var response = await _tokenOnlyB.GetAsync($"{url}?access_token={Uri.EscapeDataString(token)}");
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal(title, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("title").GetString());
            Assert.StartsWith("Bearer error=\"invalid_token\"", response.Headers.WwwAuthenticate.ToString());
        }
    }

    [Fact]
    public async Task Only_an_api_key_buys_a_stream_token_never_a_stream_token()
    {
        var (token, _, _) = await IssueAsync();
        using var withCookie = new HttpRequestMessage(HttpMethod.Post, "/streams/token");
        withCookie.Headers.Add("Cookie", $"{StreamTokenHandler.CookieName}={token}");

        foreach (var response in new[]
                 {
                     await _tokenOnlyA.PostAsync("/streams/token", null),
                     await _tokenOnlyA.PostAsync($"/streams/token?access_token={token}", null),
                     await _tokenOnlyA.SendAsync(withCookie),
                 })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal("Bearer", response.Headers.WwwAuthenticate.ToString());
        }
    }
}
