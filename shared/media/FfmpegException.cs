namespace Vidline.Media;

/// <summary>ffmpeg or ffprobe exited with an error. <c>Summary</c> is short enough to show a user.</summary>
public sealed class FfmpegException(string tool, int exitCode, string summary, IReadOnlyList<string> stderrTail, bool killedFromOutside = false)
    : Exception($"{tool} exited with code {exitCode}: {summary}")
{
    public string Tool { get; } = tool;
    public int ExitCode { get; } = exitCode;
    public string Summary { get; } = summary;
    public IReadOnlyList<string> StderrTail { get; } = stderrTail;

    /// <summary>Killed by a SIGKILL we did not send: the kernel's OOM killer, or an operator. Worth another try.</summary>
    public bool KilledFromOutside { get; } = killedFromOutside;

    /// <summary>The disk filled up under ffmpeg: worth another try once there is space, not the video's fault.</summary>
    public bool DiskFull => StderrTail.Any(line => line.Contains("No space left on device", StringComparison.OrdinalIgnoreCase));
}
