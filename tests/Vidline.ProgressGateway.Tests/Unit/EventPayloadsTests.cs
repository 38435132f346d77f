using System.Text.Json;
using Vidline.Contracts;

namespace Vidline.ProgressGateway.Tests.Unit;

public class EventPayloadsTests
{
    private static readonly Guid Job = Guid.Parse("0b9c1f7e-6a55-4a43-9a1b-2f7f4a0c5d11");
    private static readonly DateTimeOffset At = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    [Fact]
    public void Progress_carries_overall_and_stage_progress_and_only_the_details_present()
    {
        var e = new ProgressReported(Guid.NewGuid(), Job, 1, Stages.Transcoding, 50, "encoding 720p", At,
            new ProgressDetails(CurrentFrame: 120, FrameCount: 240, Fps: 59.5));
        var json = JsonDocument.Parse(EventPayloads.Progress(e)).RootElement;

        Assert.Equal(Job, json.GetProperty("job_id").GetGuid());
        Assert.Equal("transcoding", json.GetProperty("stage").GetString());
        Assert.Equal(30, json.GetProperty("progress").GetDouble()); // 10 + (50-10) * 50%
        Assert.Equal(50, json.GetProperty("stage_progress").GetDouble());
        Assert.Equal("encoding 720p", json.GetProperty("message").GetString());
        Assert.Equal(At, json.GetProperty("timestamp").GetDateTimeOffset());
        Assert.Equal(120, json.GetProperty("current_frame").GetInt64());
        Assert.Equal(240, json.GetProperty("frame_count").GetInt64());
        Assert.Equal(59.5, json.GetProperty("fps").GetDouble());
        Assert.False(json.TryGetProperty("speed", out _));
        Assert.False(json.TryGetProperty("eta_seconds", out _));
    }

    [Fact]
    public void Progress_of_an_unknown_stage_is_clamped_not_rejected()
    {
        var e = new ProgressReported(Guid.NewGuid(), Job, 1, "thumbnails", 140, "", At);
        Assert.Equal(100, EventPayloads.OverallProgress(e));
    }

    [Fact]
    public void Stage_and_done_payloads_use_snake_case()
    {
        var result = new JobResult("/outputs/x/master.m3u8", "/outputs/x/manifest.mpd",
            [new Rendition("720p", 1280, 720, 2500, 128, "outputs/x/720p.mp4")],
            [new QualityScore("720p", 0.98, 41.2, null, true)]);
        var changed = new JobStatusChanged(Guid.NewGuid(), Job, "k", "o", 5, JobStatuses.Completed, Stages.Storage, 1, 2,
            null, result, At, At);

        var stage = JsonDocument.Parse(EventPayloads.Stage(changed)).RootElement;
        Assert.Equal(["job_id", "key", "status", "stage", "run", "attempt", "timestamp"], stage.EnumerateObject().Select(p => p.Name));

        var done = JsonDocument.Parse(EventPayloads.Done(changed)).RootElement;
        Assert.Equal("completed", done.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, done.GetProperty("error_message").ValueKind);
        Assert.Equal("/outputs/x/master.m3u8", done.GetProperty("result").GetProperty("hls_manifest_url").GetString());
        Assert.Equal(0.98, done.GetProperty("result").GetProperty("quality_scores")[0].GetProperty("ssim").GetDouble());
    }
}
