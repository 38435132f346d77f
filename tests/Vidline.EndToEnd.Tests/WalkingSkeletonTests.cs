using System.Net;
using System.Text.Json;

namespace Vidline.EndToEnd.Tests;

/// <summary>The README's curl flow, through the nginx edge, on the real services, broker, database and ffmpeg.</summary>
public class WalkingSkeletonTests(Pipeline pipeline) : IClassFixture<Pipeline>
{
    [Fact]
    public async Task An_upload_is_accepted_at_once_and_streams_status_progress_and_done()
    {
        var clip = await pipeline.Clips.ClipAsync("skeleton", 1280, 720);

        var response = await pipeline.UploadAsync(clip, key: "clip.mp4");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var accepted = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        var jobId = accepted.GetProperty("job_id").GetGuid();
        Assert.False(string.IsNullOrWhiteSpace(accepted.GetProperty("message").GetString()));

        var events = await pipeline.StreamAsync(jobId);

        Assert.Equal("status", events[0].Type);
        Assert.Equal("done", events[^1].Type);
        Assert.Equal("completed", events[^1].Json.GetProperty("status").GetString());
        Assert.Contains(events, e => e.Type == "progress");

        // The whole history (Last-Event-ID 0): every stage showed up, ingest's upload included, and overall
        // progress never went backwards. (A stage's last report may lose the race with the job's `done`;
        // the gateway drops progress for a finished job rather than stream it after `done`.)
        var history = await pipeline.StreamAsync(jobId, lastEventId: "0");
        var progress = history.Where(e => e.Type == "progress").Select(e => e.Json).ToList();
        Assert.Equal(["uploading", "transcoding", "validation", "packaging", "storage"],
            history.Where(e => e.Type is "progress" or "stage").Select(e => e.Json.GetProperty("stage").GetString()).Distinct());
        Assert.Equal(["uploading", "transcoding", "validation", "packaging"],
            progress.Select(p => p.GetProperty("stage").GetString()).Distinct().Take(4));
        var overall = progress.Select(p => p.GetProperty("progress").GetDouble()).ToList();
        Assert.Equal(overall.Order(), overall);
        Assert.All(events.Skip(1), e => Assert.False(string.IsNullOrEmpty(e.Id)));
        Assert.Equal(history.Select(e => long.Parse(e.Id!)).Order(), history.Select(e => long.Parse(e.Id!)));
        // The transcoder's live ffmpeg figures reach the browser.
        Assert.Contains(progress, p => p.GetProperty("stage").GetString() == "transcoding" && p.TryGetProperty("frame_count", out _));

        var job = await pipeline.JobAsync(jobId);
        Assert.Equal("completed", job.GetProperty("status").GetString());
        Assert.Equal(100, job.GetProperty("progress").GetDouble());
        Assert.Equal("clip.mp4", job.GetProperty("key").GetString());
    }

    [Fact]
    public async Task The_outputs_play_every_hls_variant_and_the_dash_manifest_through_the_edge()
    {
        var jobId = await pipeline.SubmitAsync(await pipeline.Clips.ClipAsync("playable", 854, 480));
        var job = await pipeline.WaitForStatusAsync(jobId, "completed");
        var result = job.GetProperty("result");
        var master = result.GetProperty("hls_manifest_url").GetString()!;
        var dash = result.GetProperty("dash_manifest_url").GetString()!;

        var playlist = await pipeline.Edge.GetStringAsync(master);
        var variants = playlist.Split('\n').Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
        Assert.Equal(2, variants.Count); // 480p and 360p: the ladder never upscales
        Assert.All(playlist.Split('\n').Where(l => l.StartsWith("#EXT-X-STREAM-INF")),
            l => Assert.True(l.Contains("BANDWIDTH=") && l.Contains("RESOLUTION=") && l.Contains("CODECS="), l));
        foreach (var variant in variants)
        {
            var url = master[..(master.LastIndexOf('/') + 1)] + variant;
            var streams = await pipeline.ProbeUrlAsync(url, "-show_entries", "stream=codec_name", "-of", "csv=p=0");
            Assert.Contains("h264", streams);
        }
        var dashStreams = await pipeline.ProbeUrlAsync(dash, "-show_entries", "stream=codec_name,height", "-of", "csv=p=0");
        Assert.Contains("h264,480", dashStreams);
        Assert.Contains("h264,360", dashStreams);
        Assert.Contains("aac", dashStreams);
    }

    [Fact]
    public async Task A_file_that_is_not_a_video_gets_a_422_with_the_reason_and_a_failed_job()
    {
        var response = await pipeline.UploadAsync(await pipeline.Clips.TextFileAsync("notes.mp4"));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        var detail = problem.GetProperty("detail").GetString()!;
        Assert.DoesNotContain("   at ", detail);
        var job = await pipeline.WaitForStatusAsync(problem.GetProperty("job_id").GetGuid(), "failed");
        Assert.Equal(detail, job.GetProperty("error_message").GetString());
    }

    [Fact]
    public async Task A_video_without_audio_goes_all_the_way_with_a_warning()
    {
        var jobId = await pipeline.SubmitAsync(await pipeline.Clips.SilentClipAsync("silent"));

        var job = await pipeline.WaitForStatusAsync(jobId, "completed");
        Assert.All(job.GetProperty("result").GetProperty("renditions").EnumerateArray(),
            r => Assert.Equal(0, r.GetProperty("audio_bitrate_kbps").GetInt32()));
        var history = await pipeline.StreamAsync(jobId, lastEventId: "0");
        Assert.Contains(history, e => e.Type == "warning");
    }

    [Theory]
    [InlineData("truncated", "moov atom not found")]
    [InlineData("audio-only", "no video")]
    [InlineData("empty", "empty")]
    public async Task Bad_media_is_rejected_at_upload_with_ffprobes_reason(string kind, string reasonContains)
    {
        var path = kind switch
        {
            "truncated" => await pipeline.Clips.TruncatedAsync("truncated"),
            "audio-only" => await pipeline.Clips.AudioOnlyAsync("audio-only"),
            _ => await pipeline.Clips.EmptyFileAsync("empty.mp4"),
        };

        var response = await pipeline.UploadAsync(path);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Contains(reasonContains, problem.GetProperty("detail").GetString()!, StringComparison.OrdinalIgnoreCase);
        var job = await pipeline.WaitForStatusAsync(problem.GetProperty("job_id").GetGuid(), "failed");
        Assert.Contains(reasonContains, job.GetProperty("error_message").GetString()!, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_large_upload_streams_to_storage_instead_of_filling_memory()
    {
        // 1 GiB of zeros (a sparse file: cheap to make); ingest-api must pass it through in small buffers.
        var path = Path.Combine(pipeline.StateDirectory, "big.mp4");
        await using (var file = File.Create(path)) file.SetLength(1L << 30);
        var ingest = pipeline["ingest-api"].Pid!.Value;
        var before = PeakResidentMegabytes(ingest);

        var response = await pipeline.UploadAsync(path);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode); // all zeros is not a video
        var growth = PeakResidentMegabytes(ingest) - before;
        Assert.True(growth < 256, $"ingest-api's peak memory grew by {growth} MB for a 1024 MB upload");
        File.Delete(path);
    }

    private static long PeakResidentMegabytes(int pid) =>
        long.Parse(File.ReadAllLines($"/proc/{pid}/status").First(l => l.StartsWith("VmHWM:")).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024;

    [Fact]
    public async Task Requests_without_a_video_are_rejected_with_problem_details()
    {
        using var form = new MultipartFormDataContent { { new StringContent("k"), "key" } };
        var missing = await pipeline.Edge.PostAsync("/process", form);
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);

        var notMultipart = await pipeline.Edge.PostAsync("/process", new StringContent("{}", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, notMultipart.StatusCode);

        var badPriority = await pipeline.UploadAsync(await pipeline.Clips.ClipAsync("tiny", 320, 180, 1), priority: 42);
        Assert.Equal(HttpStatusCode.BadRequest, badPriority.StatusCode);
    }

    [Fact]
    public async Task A_repeated_post_with_the_same_idempotency_key_returns_the_first_job()
    {
        var clip = await pipeline.Clips.ClipAsync("idempotent", 320, 180, 1);
        var key = Guid.NewGuid().ToString();

        var first = await pipeline.UploadAsync(clip, idempotencyKey: key);
        var second = await pipeline.UploadAsync(clip, idempotencyKey: key);

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
        var firstId = JsonDocument.Parse(await first.Content.ReadAsStringAsync()).RootElement.GetProperty("job_id").GetGuid();
        var secondId = JsonDocument.Parse(await second.Content.ReadAsStringAsync()).RootElement.GetProperty("job_id").GetGuid();
        Assert.Equal(firstId, secondId);
        await pipeline.WaitForStatusAsync(firstId, "completed");
    }

    [Fact]
    public async Task Malformed_and_unknown_job_ids_get_400_and_404()
    {
        Assert.Equal(HttpStatusCode.BadRequest, (await pipeline.Edge.GetAsync("/jobs/not-a-uuid")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await pipeline.Edge.GetAsync($"/jobs/{Guid.NewGuid()}")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await pipeline.Edge.PostAsync("/jobs/not-a-uuid/cancel", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await pipeline.Edge.PostAsync($"/jobs/{Guid.NewGuid()}/cancel", null)).StatusCode);
    }
}
