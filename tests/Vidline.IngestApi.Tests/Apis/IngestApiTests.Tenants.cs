using System.Net;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Hosting;
using Vidline.Contracts;
using Vidline.ServiceDefaults.Tenancy;

namespace Vidline.IngestApi.Tests.Apis;

/// <summary>API keys and tenants at ingest-api: every job endpoint needs a key, and a job is its tenant's alone.</summary>
public sealed partial class IngestApiTests
{
    public static TheoryData<string?> RefusedAuthorizations => new()
    {
        null,
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer not-a-key",
        "Bearer vl_" + new string('a', 10 * 1024),
        "Bearer vl_" + new string('a', 42) + "\u0001",
        "Bearer " + ApiKey.Generate(), // well formed, never stored
    };

    [Theory]
    [MemberData(nameof(RefusedAuthorizations))]
    public async Task Every_job_endpoint_answers_401_problem_json_without_a_valid_key(string? authorization)
    {
        using var client = _factory.CreateClient();
        foreach (var path in new[] { "/process", $"/jobs/{Guid.NewGuid()}/cancel", $"/jobs/{Guid.NewGuid()}/retry" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent("") };
            if (authorization is not null) Assert.True(request.Headers.TryAddWithoutValidation("Authorization", authorization));

            var response = await client.SendAsync(request);

            await AssertProblem(response, HttpStatusCode.Unauthorized, "");
            Assert.StartsWith("Bearer", response.Headers.WwwAuthenticate.ToString());
        }
        Assert.False(Directory.Exists(Path.Combine(_storage, "uploads")));
    }

    [Theory]
    [InlineData("/health")]
    [InlineData("/health/ready")]
    [InlineData("/metrics")]
    [InlineData("/openapi/v1.json")]
    public async Task Operational_endpoints_stay_public(string path)
    {
        using var client = _factory.CreateClient();
        Assert.NotEqual(HttpStatusCode.Unauthorized, (await client.GetAsync(path)).StatusCode);
    }

    [Fact]
    public async Task A_revoked_key_is_refused()
    {
        await using var api = Api(host => host.UseSetting("Auth:KeyCacheSeconds", "0"));
        var key = await db.KeyForAsync("revoked-soon");
        using var client = api.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        await AssertProblem(await client.PostAsync($"/jobs/{Guid.NewGuid()}/cancel", null), HttpStatusCode.NotFound, "There is no job");

        await new ApiKeys(db.DataSource).RevokeAsync(key);

        await AssertProblem(await client.PostAsync($"/jobs/{Guid.NewGuid()}/cancel", null), HttpStatusCode.Unauthorized, "unknown or revoked");
    }

    [Fact]
    public async Task Another_tenant_gets_404_for_cancel_and_retry_of_a_job_exactly_as_for_a_missing_one()
    {
        var jobId = (await Json(await UploadAsync(await ClipAsync()))).GetProperty("job_id").GetGuid();
        await WaitForJobAsync(jobId, j => j.CurrentState == Stages.Transcoding.Name);
        using var other = await TenantClientAsync("tenant-b");

        foreach (var command in new[] { "cancel", "retry" })
        {
            var foreign = await other.PostAsync($"/jobs/{jobId}/{command}", null);
            var missingId = Guid.NewGuid();
            var missing = await other.PostAsync($"/jobs/{missingId}/{command}", null);

            await AssertProblem(foreign, HttpStatusCode.NotFound, $"There is no job {jobId}");
            Assert.Equal(Shape(await Json(missing)).Replace(missingId.ToString(), jobId.ToString()), Shape(await Json(foreign)));
        }
        // Untouched: its own tenant still cancels it.
        Assert.Equal(Stages.Transcoding.Name, (await WaitForJobAsync(jobId, _ => true)).CurrentState);
        Assert.Equal(HttpStatusCode.Accepted, (await _client.PostAsync($"/jobs/{jobId}/cancel", null)).StatusCode);
    }

    [Fact]
    public async Task An_idempotency_key_belongs_to_its_tenant_and_to_the_request_it_was_first_used_for()
    {
        var clip = await ClipAsync();
        var idempotencyKey = $"upload-{Guid.NewGuid():N}";
        using var other = await TenantClientAsync("tenant-b");

        var first = await UploadAsync(_client, clip, idempotencyKey);
        var repeated = await UploadAsync(_client, clip, idempotencyKey);
        var otherTenants = await UploadAsync(other, clip, idempotencyKey);

        var jobId = (await Json(first)).GetProperty("job_id").GetGuid();
        Assert.Equal(HttpStatusCode.Accepted, repeated.StatusCode);
        Assert.Equal(jobId, (await Json(repeated)).GetProperty("job_id").GetGuid());
        Assert.True(repeated.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(HttpStatusCode.Accepted, otherTenants.StatusCode);
        Assert.NotEqual(jobId, (await Json(otherTenants)).GetProperty("job_id").GetGuid());

        // The same key with another file: refused, and the first job is not handed out.
        var longer = Path.Combine(_storage, "longer.mp4");
        await File.WriteAllBytesAsync(longer, [.. await File.ReadAllBytesAsync(clip), 0]);
        var different = await UploadAsync(_client, longer, idempotencyKey);
        await AssertProblem(different, HttpStatusCode.UnprocessableEntity, "Idempotency-Key was used for a different request");
        Assert.False((await Json(different)).TryGetProperty("job_id", out _));
    }

    /// <summary>A problem's members and values, but its trace id (which differs on every request).</summary>
    private static string Shape(System.Text.Json.JsonElement problem) =>
        string.Join("\n", problem.EnumerateObject().Where(p => p.Name != "trace_id").Select(p => $"{p.Name}={p.Value}"));

    private async Task<HttpClient> TenantClientAsync(string tenant)
    {
        var client = _factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await db.KeyForAsync(tenant));
        return client;
    }

    private static async Task<HttpResponseMessage> UploadAsync(HttpClient client, string path, string idempotencyKey)
    {
        using var form = new MultipartFormDataContent();
        form.Add(VideoPart(path), "video", "clip.mp4");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/process") { Content = form };
        request.Headers.Add("Idempotency-Key", idempotencyKey);
        return await client.SendAsync(request);
    }
}
