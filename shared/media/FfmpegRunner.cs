using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Vidline.Media;

/// <summary>What one ffmpeg/ffprobe run left behind.</summary>
public sealed record FfmpegResult(int ExitCode, IReadOnlyList<string> StderrTail, TimeSpan Duration);

/// <summary>
/// Runs ffmpeg and ffprobe as child processes. Arguments always go through an argument list,
/// never a shell string, so file names cannot inject options or shell syntax.
/// </summary>
public sealed partial class FfmpegRunner(MediaOptions options)
{
    private const int StderrTailLines = 50;

    /// <summary>.NET reports a child ended by a signal as 128 + the signal's number; SIGKILL is 9.</summary>
    private const int ExitBySigkill = 128 + 9;

    public MediaOptions Options { get; } = options;

    /// <summary>What this ffmpeg build can do (asked once, then remembered).</summary>
    public FfmpegCapabilities Capabilities => _capabilities ??= new FfmpegCapabilities(this);

    private FfmpegCapabilities? _capabilities;

    /// <summary>
    /// Runs ffmpeg with <c>-nostdin -hide_banner -y</c> in front of <paramref name="arguments"/>.
    /// <paramref name="onStdoutLine"/> sees stdout as it arrives (for <c>-progress pipe:1</c>);
    /// <paramref name="onFullStderr"/>, when given, receives all of stderr once the run ends.
    /// </summary>
    public Task<FfmpegResult> RunFfmpegAsync(
        IReadOnlyList<string> arguments,
        Action<string>? onStdoutLine = null,
        Action<string>? onFullStderr = null,
        CancellationToken cancellationToken = default) =>
        RunAsync("ffmpeg", Options.FfmpegPath, ["-nostdin", "-hide_banner", "-y", .. arguments],
            Options.Niceness, onStdoutLine, onFullStderr, cancellationToken);

    public Task<FfmpegResult> RunFfprobeAsync(
        IReadOnlyList<string> arguments,
        Action<string>? onStdoutLine = null,
        CancellationToken cancellationToken = default) =>
        RunAsync("ffprobe", Options.FfprobePath, ["-hide_banner", .. arguments],
            Options.Niceness, onStdoutLine, null, cancellationToken);

    private static async Task<FfmpegResult> RunAsync(
        string tool,
        string executable,
        IReadOnlyList<string> arguments,
        int niceness,
        Action<string>? onStdoutLine,
        Action<string>? onFullStderr,
        CancellationToken cancellationToken)
    {
        // A builder that forgot the whitelist is a security bug, not a runtime condition.
        if (!HardenedInput.IsHardened(arguments))
            throw new ArgumentException("Every -i must be added through HardenedInput.", nameof(arguments));

        cancellationToken.ThrowIfCancellationRequested();

        // setpriv would start and then fail to find the tool; say plainly that it is missing instead.
        if (ResolveExecutable(executable) is not { } resolved)
            throw new FfmpegException(tool, -1, $"could not start '{executable}': not found", []);
        var startInfo = ChildProcessLauncher.StartInfoFor(resolved, arguments, niceness);
        startInfo.RedirectStandardInput = true;
        startInfo.RedirectStandardOutput = true;
        startInfo.RedirectStandardError = true;
        startInfo.UseShellExecute = false;
        startInfo.CreateNoWindow = true;
        startInfo.StandardOutputEncoding = Encoding.UTF8;
        startInfo.StandardErrorEncoding = Encoding.UTF8;

        using var process = new Process { StartInfo = startInfo };
        var stopwatch = Stopwatch.StartNew();
        try
        {
            await ChildProcessLauncher.StartAsync(process).ConfigureAwait(false);
        }
        catch (Win32Exception e)
        {
            throw new FfmpegException(tool, -1, $"could not start '{executable}': {e.Message}", []);
        }

        // ffprobe has no -nostdin; closing stdin stops it (or an odd ffmpeg build) waiting on the console.
        process.StandardInput.Close();

        // A SIGKILL we sent is a cancellation; one we did not send (the OOM killer) is a fault of its own.
        var killedByUs = false;
        void Kill() { Volatile.Write(ref killedByUs, true); KillTree(process); }
        var tail = new Queue<string>(StderrTailLines);
        var fullStderr = onFullStderr is null ? null : new StringBuilder();
        // A throwing progress callback must not leave ffmpeg blocked on a full stdout pipe:
        // remember the error, stop the process, keep draining, rethrow once it is gone.
        Exception? callbackError = null;
        var stdoutTask = PumpAsync(process.StandardOutput, line =>
        {
            if (callbackError is not null || onStdoutLine is null) return;
            try { onStdoutLine(line); }
            catch (Exception e) { callbackError = e; Kill(); }
        });
        var stderrTask = PumpAsync(process.StandardError, line =>
        {
            fullStderr?.AppendLine(line);
            if (tail.Count == StderrTailLines) tail.Dequeue();
            tail.Enqueue(line);
        });

        using (cancellationToken.Register(Kill))
        {
            // Wait without the token: after a kill we still reap the process and drain its pipes,
            // so no zombie or half-read pipe outlives the call.
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            await Task.WhenAll(stdoutTask, stderrTask).ConfigureAwait(false);
        }
        stopwatch.Stop();

        cancellationToken.ThrowIfCancellationRequested();
        if (callbackError is not null)
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(callbackError);

        var tailLines = tail.ToArray();
        if (process.ExitCode != 0)
            throw new FfmpegException(tool, process.ExitCode, Summarize(tailLines), tailLines,
                killedFromOutside: process.ExitCode == ExitBySigkill && !Volatile.Read(ref killedByUs));

        if (fullStderr is not null) onFullStderr!(fullStderr.ToString());
        return new FfmpegResult(process.ExitCode, tailLines, stopwatch.Elapsed);
    }

    private static string? ResolveExecutable(string executable)
    {
        if (executable.Contains('/')) return File.Exists(executable) ? Path.GetFullPath(executable) : null;
        return (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, executable))
            .FirstOrDefault(File.Exists);
    }

    private static async Task PumpAsync(StreamReader reader, Action<string> onLine)
    {
        while (await reader.ReadLineAsync().ConfigureAwait(false) is { } line)
            onLine(line);
    }

    private static void KillTree(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited: nothing to kill.
        }
    }

    /// <summary>
    /// The last few lines that say what went wrong. ffmpeg keeps printing stream listings and
    /// mapping after the real error, so lines that read like errors win over plain chatter;
    /// "[mov,mp4 @ 0x55…]" tags and generic trailers are dropped.
    /// </summary>
    internal static string Summarize(IReadOnlyList<string> stderrTail)
    {
        var meaningful = stderrTail
            .Where(line => line.Length > 0 && !char.IsWhiteSpace(line[0]))
            .Select(line => ComponentTag().Replace(line, "").Trim())
            .Where(line => line.Length > 0 && !IsChatter(line))
            .ToList();
        var errors = meaningful.Where(line => ErrorWords().IsMatch(line)).ToList();
        var chosen = (errors.Count > 0 ? errors : meaningful).TakeLast(3).ToList();
        return chosen.Count == 0 ? "no error output" : string.Join("; ", chosen);
    }

    /// <summary>One stderr line without its "[mov,mp4 @ 0x55…]" tag.</summary>
    internal static string WithoutComponentTag(string line) => ComponentTag().Replace(line, "").Trim();

    private static bool IsChatter(string line) =>
        line is "Conversion failed!" or "Stream mapping:" ||
        line.StartsWith("Exiting normally", StringComparison.Ordinal) ||
        line.StartsWith("Input #", StringComparison.Ordinal) ||
        line.StartsWith("Output #", StringComparison.Ordinal) ||
        line.StartsWith("Stream #", StringComparison.Ordinal) ||
        line.StartsWith("Last message repeated", StringComparison.Ordinal) ||
        line.StartsWith("Opening '", StringComparison.Ordinal) ||
        line.StartsWith("Press [q]", StringComparison.Ordinal) ||
        line.StartsWith("frame=", StringComparison.Ordinal) ||
        line.StartsWith("size=", StringComparison.Ordinal) ||
        line.StartsWith("video:", StringComparison.Ordinal);

    [GeneratedRegex(@"error|invalid|not found|could not|cannot|can't|failed|conflicting|unsupported|no such|denied|not on whitelist|truncat|corrupt", RegexOptions.IgnoreCase)]
    private static partial Regex ErrorWords();

    [GeneratedRegex(@"^\[[^\]]*@ 0x[0-9a-fA-F]+\]\s*")]
    private static partial Regex ComponentTag();
}
