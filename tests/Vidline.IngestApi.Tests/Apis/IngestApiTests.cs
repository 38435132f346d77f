using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using MassTransit;
using MassTransit.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Vidline.Contracts;
using Vidline.IngestApi.Jobs;
using Vidline.IngestApi.Persistence;
using Vidline.IngestApi.Apis;
using Vidline.IngestApi.Tests.Jobs;
using Vidline.IngestApi.Tests.Persistence;

namespace Vidline.IngestApi.Tests.Apis;

/// <summary>
/// The ingest API in process (WebApplicationFactory): real PostgreSQL for the saga, the in-memory transport for the
/// bus, so every answer comes from the saga itself. No stage worker runs: a job waits at transcoding.
/// </summary>
public sealed partial class IngestApiTests(PostgresTestDatabase db) : IClassFixture<PostgresTestDatabase>, IAsyncLifetime
{
    private readonly string _storage = Directory.CreateTempSubdirectory("vidline-ingest-api-").FullName;
    private const string Tenant = "tenant-a";
    private WebApplicationFactory<Program> _factory = null!;
    private HttpClient _client = null!;
    private string _key = null!;

    public async Task InitializeAsync()
    {
        _factory = Api();
        _key = await db.KeyForAsync(Tenant);
        _client = _factory.CreateClient();
        _client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", _key);
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

    [Theory]
    [InlineData("nul\0key", "control characters")]
    [InlineData("bell\u0007", "control characters")]
    public async Task A_key_with_a_control_character_is_refused_with_400_before_the_video_is_stored(string key, string reason)
    {
        var response = await UploadAsync(await ClipAsync(), key: key);

        await AssertProblem(response, HttpStatusCode.BadRequest, reason);
        Assert.False(Directory.Exists(Path.Combine(_storage, "uploads")));
        Assert.False((await Json(response)).TryGetProperty("job_id", out _), "no job was created, so none is named");
    }

    [Fact]
    public async Task A_key_longer_than_the_limit_is_refused_with_400_before_the_video_is_stored()
    {
        // Far larger than the limit: it is refused once the limit is passed, never read whole.
        var response = await UploadAsync(await ClipAsync(), key: new string('k', 8 * 1024 * 1024));

        await AssertProblem(response, HttpStatusCode.BadRequest, "'key' is too long");
        Assert.False(Directory.Exists(Path.Combine(_storage, "uploads")));
    }

    [Theory]
    [InlineData("high")]
    [InlineData("10")]
    [InlineData("-1")]
    [InlineData("1\0")] // int.TryParse ignores trailing NULs
    [InlineData("+1")]
    public async Task A_priority_that_is_not_0_to_9_is_refused_with_400(string priority)
    {
        using var form = new MultipartFormDataContent { { new StringContent(priority), "priority" } };
        form.Add(VideoPart(await ClipAsync()), "video", "clip.mp4");

        await AssertProblem(await _client.PostAsync("/process", form), HttpStatusCode.BadRequest, "'priority' must be a whole number from 0 to 9");
        Assert.False(Directory.Exists(Path.Combine(_storage, "uploads")));
    }

    [Fact]
    public async Task A_bad_key_sent_after_the_video_fails_the_job_with_the_reason_and_removes_the_file()
    {
        using var form = new MultipartFormDataContent();
        form.Add(VideoPart(await ClipAsync()), "video", "clip.mp4");
        form.Add(new StringContent("nul\0key"), "key");

        var response = await _client.PostAsync("/process", form);

        await AssertProblem(response, HttpStatusCode.BadRequest, "control characters");
        var jobId = (await Json(response)).GetProperty("job_id").GetGuid();
        var job = await WaitForJobAsync(jobId, j => j.CurrentState == "Failed");
        Assert.Contains("control characters", job.ErrorMessage);
        Assert.False(Directory.Exists(Path.Combine(_storage, "uploads", jobId.ToString("N"))));
    }

    [Fact]
    public async Task An_upload_whose_job_failed_while_it_was_paused_is_answered_409_and_its_file_removed()
    {
        var upload = await PausedUploadAsync(_factory);

        // While the client pauses, the job fails as the stall sweep would fail it.
        await _factory.Services.GetRequiredService<IBus>().Publish(new StageStalled(upload.JobId, Stages.Uploading, 0));
        await WaitForJobAsync(upload.JobId, j => j.CurrentState == "Failed");

        var response = await upload.ResumeAsync();
        await AssertProblem(response, HttpStatusCode.Conflict, "its upload came too late");
        Assert.False(Directory.Exists(Path.Combine(_storage, "uploads", upload.JobId.ToString("N"))));
    }

    [Fact]
    public async Task An_upload_paused_longer_than_the_stall_timeout_is_kept_alive_by_its_request()
    {
        await using var api = Api(host =>
        {
            host.UseSetting("Stages:StallTimeout", "00:00:05");
            host.UseSetting("Stages:SweepInterval", "00:00:00.250");
            host.UseSetting("StageWork:HeartbeatInterval", "00:00:00.250");
        });
        var upload = await PausedUploadAsync(api);

        // Paused well past the stall timeout, with the sweep running: the request beats for its upload.
        await Task.Delay(TimeSpan.FromSeconds(8));
        var response = await upload.ResumeAsync();

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        await WaitForJobAsync(upload.JobId, j => j.CurrentState == Stages.Transcoding.Name, api);
    }

    [Fact]
    public async Task An_upload_arriving_when_the_service_stops_is_ended_and_leaves_no_file_behind()
    {
        var api = Api();
        var upload = await PausedUploadAsync(api);
        var folder = Path.Combine(_storage, "uploads", upload.JobId.ToString("N"));
        Assert.True(Directory.Exists(folder));

        // SIGTERM: the service stops taking the upload at once, while it can still clean up.
        api.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();

        for (var i = 0; i < 200 && Directory.Exists(folder); i++) await Task.Delay(50);
        Assert.False(Directory.Exists(folder), "the stopped upload's file is still there");
        await api.DisposeAsync();
    }

    private sealed record PausedUpload(Guid JobId, PausedStream Body, Task<HttpContext> Answer)
    {
        public async Task<HttpResponseMessage> ResumeAsync()
        {
            Body.Resume();
            return ResponseOf(await Answer);
        }
    }

    private static HttpResponseMessage ResponseOf(HttpContext answer)
    {
        var response = new HttpResponseMessage((HttpStatusCode)answer.Response.StatusCode) { Content = new StreamContent(answer.Response.Body) };
        if (answer.Response.ContentType is { } type) response.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(type);
        return response;
    }

    /// <summary>
    /// Posts <paramref name="form"/> without Content-Length, as a chunked upload arrives (the test client would announce
    /// the length): the body is handed to the app as is.
    /// </summary>
    private async Task<HttpResponseMessage> PostUnsizedAsync(WebApplicationFactory<Program> api, MultipartFormDataContent form)
    {
        var body = new MemoryStream(await form.ReadAsByteArrayAsync());
        return ResponseOf(await api.Server.SendAsync(http =>
        {
            http.Request.Method = "POST";
            http.Request.Path = "/process";
            http.Request.ContentType = form.Headers.ContentType!.ToString();
            http.Request.Headers.Authorization = $"Bearer {_key}";
            http.Request.Body = body;
        }));
    }

    /// <summary>
    /// Starts an upload whose client stops before its last byte; returns once its job exists. The body is handed to the
    /// app as is, so the test decides when the rest arrives.
    /// </summary>
    private async Task<PausedUpload> PausedUploadAsync(WebApplicationFactory<Program> api)
    {
        var key = $"paused-{Guid.NewGuid():N}";
        using var form = new MultipartFormDataContent { { new StringContent(key), "key" } };
        form.Add(VideoPart(await ClipAsync()), "video", "clip.mp4");
        var body = new PausedStream(await form.ReadAsByteArrayAsync());
        var answer = api.Server.SendAsync(http =>
        {
            http.Request.Method = "POST";
            http.Request.Path = "/process";
            http.Request.Headers.Authorization = $"Bearer {_key}";
            http.Request.ContentType = form.Headers.ContentType!.ToString();
            http.Request.Headers.Authorization = $"Bearer {_key}";
            http.Request.Body = body;
        });
        await body.Reached;
        return new PausedUpload(await JobIdOfKeyAsync(key), body, answer);
    }

    [Fact]
    public async Task A_saga_that_does_not_answer_makes_cancel_answer_503_not_500()
    {
        // The saga's answers leave through the outbox: without its dispatcher, no answer comes, and the request client
        // gives up after a second.
        await using var factory = Api(services: services =>
        {
            services.AddMassTransitTestHarness(x =>
            {
                x.AddIngestMessaging();
                x.AddRequestClient<CancelJob>(RequestTimeout.After(s: 1));
            });
            services.Remove(services.Single(d => d.ImplementationType == typeof(OutboxDispatcher)));
        });
        using var client = ClientOf(factory);
        var jobId = NewId.NextGuid();
        await factory.Services.GetRequiredService<IBus>().Publish(
            new VideoUploaded(jobId, "clip.mp4", Tenant, 0, DateTimeOffset.UtcNow, $"uploads/{jobId:N}/source", JobHarness.Clip));
        await WaitForJobAsync(jobId, j => j.CurrentState == Stages.Transcoding.Name, factory);

        var response = await client.PostAsync($"/jobs/{jobId}/cancel", null);

        await AssertProblem(response, HttpStatusCode.ServiceUnavailable, "did not answer in time");
        Assert.True(response.Headers.RetryAfter is not null);
    }

    [Theory]
    [InlineData("key", "clip.mp4")]
    [InlineData("priority", "1")]
    public async Task A_repeated_field_is_refused_with_400_before_the_video_is_stored(string field, string value)
    {
        using var form = new MultipartFormDataContent { { new StringContent(value), field }, { new StringContent(value), field } };
        form.Add(VideoPart(await ClipAsync()), "video", "clip.mp4");

        await AssertProblem(await _client.PostAsync("/process", form), HttpStatusCode.BadRequest, $"at most one '{field}'");
        Assert.False(Directory.Exists(Path.Combine(_storage, "uploads")));
    }

    [Fact]
    public async Task A_boundary_longer_than_70_characters_is_refused_with_400_not_500()
    {
        var boundary = new string('b', 5000);
        var body = new ByteArrayContent(System.Text.Encoding.ASCII.GetBytes($"--{boundary}\r\n\r\n--{boundary}--\r\n"));
        body.Headers.TryAddWithoutValidation("Content-Type", $"multipart/form-data; boundary={boundary}");

        await AssertProblem(await _client.PostAsync("/process", body), HttpStatusCode.BadRequest, "at most 70 characters");
    }

    [Fact]
    public async Task A_body_that_ends_before_its_video_is_refused_with_400_not_as_too_late()
    {
        var body = new ByteArrayContent("--b\r\nContent-Disposition: form-da"u8.ToArray());
        body.Headers.TryAddWithoutValidation("Content-Type", "multipart/form-data; boundary=b");

        await AssertProblem(await _client.PostAsync("/process", body), HttpStatusCode.BadRequest, "The upload");
    }

    [Fact]
    public async Task A_body_that_is_not_multipart_is_refused_with_415()
    {
        var response = await _client.PostAsync("/process", new StringContent("{}", System.Text.Encoding.UTF8, "application/json"));
        await AssertProblem(response, HttpStatusCode.UnsupportedMediaType, "multipart/form-data");
    }

    [Fact]
    public async Task An_upload_announced_larger_than_the_limit_is_refused_with_413_before_any_job_exists()
    {
        var clip = await ClipAsync();
        await using var api = Api(host => host.UseSetting("Upload:MaxBytes", (new FileInfo(clip).Length / 2).ToString()));
        using var form = new MultipartFormDataContent();
        form.Add(VideoPart(clip), "video", "clip.mp4");

        var response = await ClientOf(api).PostAsync("/process", form);

        await AssertProblem(response, HttpStatusCode.RequestEntityTooLarge, "larger than the limit");
        Assert.False((await Json(response)).TryGetProperty("job_id", out _), "refused up front: no job was created");
        Assert.False(Directory.Exists(Path.Combine(_storage, "uploads")));
    }

    [Fact]
    public async Task An_upload_that_grows_past_the_limit_while_arriving_is_refused_with_413_and_its_job_fails()
    {
        // The limit lies well past the reader's first buffer (64 KB), so the video part has begun when it is crossed.
        var video = Path.Combine(_storage, $"large-{Guid.NewGuid():N}.mp4");
        await File.WriteAllBytesAsync(video, new byte[1024 * 1024]);
        await using var api = Api(host => host.UseSetting("Upload:MaxBytes", (512 * 1024).ToString()));
        // No Content-Length (chunked): the limit is found only while the video arrives.
        using var form = new MultipartFormDataContent { { new StringContent("too-large.mp4"), "key" } };
        form.Add(VideoPart(video), "video", "clip.mp4");

        var response = await PostUnsizedAsync(api, form);

        await AssertProblem(response, HttpStatusCode.RequestEntityTooLarge, "larger than the limit");
        var jobId = (await Json(response)).GetProperty("job_id").GetGuid();
        var job = await WaitForJobAsync(jobId, j => j.CurrentState == "Failed", api);
        Assert.Contains("larger than the limit", job.ErrorMessage);
        Assert.False(Directory.Exists(Path.Combine(_storage, "uploads", jobId.ToString("N"))));
    }

    [Fact]
    public async Task An_upload_storage_has_no_room_for_is_refused_with_507_up_front_or_when_the_disk_fills_and_leaves_no_file()
    {
        await using var volume = await SmallVolume.MountAsync(megabytes: 2);
        await using var api = Api(host =>
        {
            host.UseSetting("Storage:Root", volume.Path);
            host.UseSetting("Upload:StorageReserveBytes", "0");
        });
        var client = ClientOf(api);
        var tooMuch = new byte[3 * 1024 * 1024];

        // Announced: refused before a byte is stored, and before a job exists.
        using (var announced = new MultipartFormDataContent { { new ByteArrayContent(tooMuch), "video", "big.mp4" } })
        {
            var response = await client.PostAsync("/process", announced);
            await AssertProblem(response, HttpStatusCode.InsufficientStorage, "no room");
            Assert.False((await Json(response)).TryGetProperty("job_id", out _));
        }

        // Unannounced: the disk fills while it is written (ENOSPC); the job fails with the reason and the partial file goes.
        using var unannounced = new MultipartFormDataContent { { new ByteArrayContent(tooMuch), "video", "big.mp4" } };
        var full = await PostUnsizedAsync(api, unannounced);

        await AssertProblem(full, HttpStatusCode.InsufficientStorage, "no room");
        var jobId = (await Json(full)).GetProperty("job_id").GetGuid();
        var job = await WaitForJobAsync(jobId, j => j.CurrentState == "Failed", api);
        Assert.Contains("no room", job.ErrorMessage);
        Assert.False(Directory.Exists(Path.Combine(volume.Path, "uploads", jobId.ToString("N"))));
    }

    [Fact]
    public async Task An_upload_whose_client_stops_sending_is_answered_408_and_its_job_fails_with_the_reason()
    {
        // Real Kestrel, whose minimum body data rate ends a request that stalls (its grace shortened for the test).
        await using var api = Api();
        api.UseKestrel(k => k.Limits.MinRequestBodyDataRate = new MinDataRate(240, TimeSpan.FromSeconds(2)));
        api.StartServer();
        var address = new Uri(api.ClientOptions.BaseAddress, "/process");
        var boundary = "stalled-upload";
        var key = $"stalled-{Guid.NewGuid():N}";
        var start = $"--{boundary}\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\n{key}\r\n" +
                    $"--{boundary}\r\nContent-Disposition: form-data; name=\"video\"; filename=\"clip.mp4\"\r\n" +
                    "Content-Type: application/octet-stream\r\n\r\n" + new string('v', 200);

        // The client announces a megabyte, sends the start of it, and then nothing more.
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(address.Host, address.Port);
        var connection = tcp.GetStream();
        await connection.WriteAsync(System.Text.Encoding.ASCII.GetBytes(
            $"POST /process HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {_key}\r\n" +
            $"Content-Type: multipart/form-data; boundary={boundary}\r\n" +
            $"Content-Length: {1024 * 1024}\r\n\r\n{start}"));
        using var reader = new StreamReader(connection);
        var statusLine = await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
        var answer = await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal("HTTP/1.1 408 Request Timeout", statusLine);
        Assert.Contains("application/problem+json", answer);
        Assert.Contains("too slowly", answer);
        var jobId = await JobIdOfKeyAsync(key);
        Assert.Contains(jobId.ToString(), answer);
        var job = await WaitForJobAsync(jobId, j => j.CurrentState == "Failed", api);
        Assert.Contains("too slowly", job.ErrorMessage);
    }

    [Fact]
    public async Task Job_creation_beyond_the_rate_limit_is_refused_with_429_and_Retry_After()
    {
        await using var api = Api(host => host.UseSetting("RateLimits:JobsPerMinute", "2"));
        var client = ClientOf(api);
        var clip = await ClipAsync();

        for (var i = 0; i < 2; i++)
            Assert.Equal(HttpStatusCode.Accepted, (await UploadAsync(clip, client: client)).StatusCode);
        var refused = await UploadAsync(clip, client: client);

        await AssertProblem(refused, HttpStatusCode.TooManyRequests, "limit");
        // Two a minute: the next one in at most 30 s.
        Assert.InRange(refused.Headers.RetryAfter?.Delta ?? TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task A_multipart_boundary_longer_than_70_characters_is_refused_with_400()
    {
        var boundary = new string('b', 5000);
        var body = new ByteArrayContent(System.Text.Encoding.ASCII.GetBytes($"--{boundary}\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nx\r\n--{boundary}--\r\n"));
        body.Headers.TryAddWithoutValidation("Content-Type", $"multipart/form-data; boundary={boundary}");

        await AssertProblem(await _client.PostAsync("/process", body), HttpStatusCode.BadRequest, "boundary may be at most 70 characters");
    }

    [Fact]
    public async Task A_CORS_preflight_from_an_unlisted_origin_gets_no_allow_header()
    {
        using var preflight = new HttpRequestMessage(HttpMethod.Options, "/process");
        preflight.Headers.Add("Origin", "https://elsewhere.example");
        preflight.Headers.Add("Access-Control-Request-Method", "POST");

        var response = await _client.SendAsync(preflight);

        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
    }

    /// <summary>A tmpfs of a few megabytes (the tests run as root), for a disk that really fills.</summary>
    private sealed class SmallVolume : IAsyncDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("vidline-small-volume-").FullName;

        public static async Task<SmallVolume> MountAsync(int megabytes)
        {
            var volume = new SmallVolume();
            await RunAsync("mount", "-t", "tmpfs", "-o", $"size={megabytes}m", "tmpfs", volume.Path);
            return volume;
        }

        public async ValueTask DisposeAsync()
        {
            await RunAsync("umount", Path);
            Directory.Delete(Path);
        }

        private static async Task RunAsync(string file, params string[] arguments)
        {
            using var process = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardError = true })!;
            var errors = await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', arguments)}: {errors} (mounting a tmpfs needs root)");
        }
    }

    /// <summary>
    /// The API with the same saga and consumers as in production, on the in-memory transport; <paramref name="adapt"/>
    /// changes settings or services.
    /// </summary>
    private WebApplicationFactory<Program> Api(Action<IWebHostBuilder>? adapt = null, Action<IServiceCollection>? services = null) =>
        new WebApplicationFactory<Program>().WithWebHostBuilder(host =>
        {
            host.UseEnvironment("Testing");
            host.UseSetting("ConnectionStrings:Postgres", db.ConnectionString);
            host.UseSetting("Storage:Root", _storage);
            host.ConfigureTestServices(s =>
            {
                s.AddMassTransitTestHarness(x => x.AddIngestMessaging());
                services?.Invoke(s);
            });
            adapt?.Invoke(host);
        });

    /// <summary>A client of <paramref name="api"/> with the tests' tenant's key.</summary>
    private HttpClient ClientOf(WebApplicationFactory<Program> api)
    {
        var client = api.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", _key);
        return client;
    }

    private async Task<HttpResponseMessage> UploadAsync(string path, string? key = null, HttpClient? client = null)
    {
        using var form = new MultipartFormDataContent();
        if (key is not null) form.Add(new StringContent(key), "key");
        form.Add(VideoPart(path), "video", Path.GetFileName(path));
        return await (client ?? _client).PostAsync("/process", form);
    }

    private static StreamContent VideoPart(string path)
    {
        var file = new StreamContent(File.OpenRead(path));
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return file;
    }

    /// <summary>A request body whose client stops before its last byte (like a paused upload) until told to go on.</summary>
    private sealed class PausedStream(byte[] content) : MemoryStream(content)
    {
        private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _resume = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Reached => _reached.Task;

        public void Resume() => _resume.TrySetResult();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (Position == Length - 1)
            {
                _reached.TrySetResult();
                await _resume.Task.WaitAsync(cancellationToken);
            }
            return await base.ReadAsync(buffer[..(int)Math.Min(buffer.Length, Math.Max(1, Length - 1 - Position))], cancellationToken);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }

    /// <summary>The job an upload with <paramref name="key"/> created, once the saga stored it.</summary>
    private async Task<Guid> JobIdOfKeyAsync(string key)
    {
        for (var i = 0; i < 200; i++)
        {
            await using var command = db.DataSource.CreateCommand("SELECT correlation_id FROM video_job_saga WHERE data->>'Key' = @key");
            command.Parameters.AddWithValue("key", key);
            if (await command.ExecuteScalarAsync() is Guid id) return id;
            await Task.Delay(50);
        }
        Assert.Fail($"no job has the key {key}");
        return default;
    }

    private async Task<VideoJobState> WaitForJobAsync(Guid jobId, Func<VideoJobState, bool> condition, WebApplicationFactory<Program>? factory = null)
    {
        var jobs = (factory ?? _factory).Services.GetRequiredService<VideoJobTable>();
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
