using Vidline.Contracts;

namespace Vidline.ProgressGateway.Tests.Integration;

/// <summary>Message builders with timestamps that always move forward, as the saga's would.</summary>
public static class Messages
{
    private static long _tick = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    public static DateTimeOffset Now() => DateTimeOffset.FromUnixTimeMilliseconds(Interlocked.Increment(ref _tick));

    public static JobStatusChanged Status(Guid job, string status, string stage, int attempt = 1,
        string? error = null, JobResult? result = null, DateTimeOffset? createdAt = null, int run = 1) =>
        new(Guid.NewGuid(), job, $"videos/{job:N}.mp4", "tester", 3, status, stage, run, attempt, error, result,
            createdAt ?? DateTimeOffset.UtcNow, Now());

    public static ProgressReported Progress(Guid job, string stage, double stageProgress, Guid? eventId = null, int run = 1) =>
        new(eventId ?? Guid.NewGuid(), job, run, stage, stageProgress, $"{stage} {stageProgress}%", Now(),
            new ProgressDetails(CurrentFrame: (long)stageProgress * 10, FrameCount: 1000, Fps: 48.5, Speed: 1.9, EtaSeconds: 12));

    public static WarningReported Warning(Guid job, string stage, string message, int run = 1) =>
        new(Guid.NewGuid(), job, run, stage, message, Now());

    public static JobResult Result(Guid job) => new(
        $"/outputs/{job:N}/hls/master.m3u8", $"/outputs/{job:N}/dash/manifest.mpd",
        [new Rendition("720p", 1280, 720, 2800, 128, $"outputs/{job:N}/720p.mp4")],
        [new QualityScore("720p", 0.985, 42.1, null, true)]);
}
