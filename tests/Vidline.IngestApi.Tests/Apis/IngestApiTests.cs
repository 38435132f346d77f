using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using MassTransit;
using MassTransit.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Vidline.Contracts;
using Vidline.IngestApi.Jobs;
using Vidline.IngestApi.Persistence;
using Vidline.IngestApi.Tests.Persistence;

namespace Vidline.IngestApi.Tests.Apis;

/// <summary>
/// The ingest API in process (WebApplicationFactory): real PostgreSQL for the saga, the in-memory transport for the
/// bus, so every answer comes from the saga itself. No stage worker runs: a job waits at transcoding.
/// </summary>
public sealed class IngestApiTests(PostgresTestDatabase db) : IClassFixture<PostgresTestDatabase>, IAsyncLifetime
{
    private readonly string _storage = Directory.CreateTempSubdirectory("vidline-ingest-api-").FullName;
    private WebApplicationFactory<Program> _factory = null!;
    private HttpClient _client = null!;

    public Task InitializeAsync()
    {
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(host =>
        {
            host.UseEnvironment("Testing");
            host.UseSetting("ConnectionStrings:Postgres", db.ConnectionString);
            host.UseSetting("Storage:Root", _storage);
            // The same saga and consumers as in production, on the in-memory transport.
            host.ConfigureTestServices(services => services.AddMassTransitTestHarness(x => x.AddIngestMessaging()));
        });
        _client = _factory.CreateClient();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _factory.DisposeAsync();
        Directory.Delete(_storage, recursive: true);
    }

    [Fact]
    public async Task A_video_is_accepted_at_once_and_its_job_waits_for_the_transcoder()
    {
        var response = await UploadAsync(await ClipAsync(), key: "clip.mp4");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = await Json(response);
        var jobId = body.GetProperty("job_id").GetGuid();
        Assert.Equal($"/jobs/{jobId}", response.Headers.Location?.OriginalString);
        Assert.Equal($"/jobs/{jobId}/stream", body.GetProperty("stream_url").GetString());
        var job = await WaitForJobAsync(jobId, j => j.CurrentState == Stages.Transcoding.Name);
        Assert.Equal("clip.mp4", job.Key);
    }

    [Fact]
    public async Task Cancel_and_retry_answer_with_what_the_saga_decided()
    {
        var jobId = (await Json(await UploadAsync(await ClipAsync()))).GetProperty("job_id").GetGuid();
        await WaitForJobAsync(jobId, j => j.CurrentState == Stages.Transcoding.Name);

        var retryRunning = await _client.PostAsync($"/jobs/{jobId}/retry", null);
        await AssertProblem(retryRunning, HttpStatusCode.Conflict, "only a failed job can be retried");

        var cancel = await _client.PostAsync($"/jobs/{jobId}/cancel", null);
        Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        Assert.Equal("Cancellation requested.", (await Json(cancel)).GetProperty("message").GetString());
        await WaitForJobAsync(jobId, j => j.CurrentState == "Cancelled");

        await AssertProblem(await _client.PostAsync($"/jobs/{jobId}/cancel", null), HttpStatusCode.Conflict, "only a running job can be cancelled");
        await AssertProblem(await _client.PostAsync($"/jobs/{Guid.NewGuid()}/cancel", null), HttpStatusCode.NotFound, "There is no job");
        await AssertProblem(await _client.PostAsync("/jobs/not-a-job/retry", null), HttpStatusCode.BadRequest, "is not a job id");
    }

    [Fact]
    public async Task An_expired_job_answers_retry_with_410_gone()
    {
        var jobId = (await Json(await UploadAsync(await ClipAsync()))).GetProperty("job_id").GetGuid();
        await WaitForJobAsync(jobId, j => j.CurrentState == Stages.Transcoding.Name);
        var bus = _factory.Services.GetRequiredService<IBus>();
        await bus.Publish(new StageFailed(jobId, Stages.Transcoding, 1, "broken", Permanent: true));
        await WaitForJobAsync(jobId, j => j.CurrentState == "Failed");
        await bus.Publish(new ExpireJob(jobId));
        await WaitForJobAsync(jobId, j => j.CurrentState == "Expired");

        await AssertProblem(await _client.PostAsync($"/jobs/{jobId}/retry", null), HttpStatusCode.Gone, "has expired");
    }

    [Fact]
    public async Task A_file_that_is_not_video_is_refused_with_422_and_its_job_fails_with_the_reason()
    {
        var text = Path.Combine(_storage, "notes.txt");
        await File.WriteAllTextAsync(text, "this is not a video");

        var response = await UploadAsync(text);

        await AssertProblem(response, HttpStatusCode.UnprocessableEntity, "");
        var jobId = (await Json(response)).GetProperty("job_id").GetGuid();
        var job = await WaitForJobAsync(jobId, j => j.CurrentState == "Failed");
        Assert.False(string.IsNullOrWhiteSpace(job.ErrorMessage));
        Assert.False(Directory.Exists(Path.Combine(_storage, "uploads", jobId.ToString("N"))));
    }

    [Fact]
    public async Task A_body_that_is_not_multipart_is_refused_with_415()
    {
        var response = await _client.PostAsync("/process", new StringContent("{}", System.Text.Encoding.UTF8, "application/json"));
        await AssertProblem(response, HttpStatusCode.UnsupportedMediaType, "multipart/form-data");
    }

    private async Task<HttpResponseMessage> UploadAsync(string path, string? key = null)
    {
        using var form = new MultipartFormDataContent();
        if (key is not null) form.Add(new StringContent(key), "key");
        var file = new StreamContent(File.OpenRead(path));
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(file, "video", Path.GetFileName(path));
        return await _client.PostAsync("/process", form);
    }

    private async Task<VideoJobState> WaitForJobAsync(Guid jobId, Func<VideoJobState, bool> condition)
    {
        var jobs = _factory.Services.GetRequiredService<VideoJobTable>();
        VideoJobState? job = null;
        for (var i = 0; i < 200; i++)
        {
            job = await jobs.FindAsync(jobId, default);
            if (job is not null && condition(job)) return job;
            await Task.Delay(50);
        }
        Assert.Fail($"job {jobId} is {job?.CurrentState ?? "missing"}");
        return null!;
    }

    private static async Task AssertProblem(HttpResponseMessage response, HttpStatusCode status, string detailContains)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await Json(response);
        Assert.Contains(detailContains, problem.GetProperty("detail").GetString());
        Assert.DoesNotContain("   at ", problem.ToString()); // no stack trace
    }

    private static async Task<JsonElement> Json(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    /// <summary>A one-second test clip made by ffmpeg.</summary>
    private async Task<string> ClipAsync()
    {
        var path = Path.Combine(_storage, $"clip-{Guid.NewGuid():N}.mp4");
        using var ffmpeg = Process.Start(new ProcessStartInfo("ffmpeg",
            ["-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=1",
             "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", path]) { RedirectStandardError = true })!;
        await ffmpeg.WaitForExitAsync();
        Assert.Equal(0, ffmpeg.ExitCode);
        return path;
    }
}
