namespace Vidline.Media;

/// <summary>ffmpeg or ffprobe exited with an error. <c>Summary</c> is short enough to show a user.</summary>
public sealed class FfmpegException(string tool, int exitCode, string summary, IReadOnlyList<string> stderrTail)
    : Exception($"{tool} exited with code {exitCode}: {summary}")
{
    public string Tool { get; } = tool;
    public int ExitCode { get; } = exitCode;
    public string Summary { get; } = summary;
    public IReadOnlyList<string> StderrTail { get; } = stderrTail;
}
