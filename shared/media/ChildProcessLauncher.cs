using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace Vidline.Media;

/// <summary>
/// Starts child processes so that none outlives this process, even when it is killed with SIGKILL.
/// Each child runs under <c>setpriv --pdeathsig KILL</c>, which asks the kernel to kill it when its parent dies.
/// The kernel means the parent <em>thread</em>: the one that forked. .NET forks from the calling thread, and a
/// thread-pool thread may retire while its ffmpeg still runs, so every start happens on one dedicated thread that
/// lives as long as the process.
/// A child can also start at a lower CPU priority (<c>nice</c>), from its first instruction: threads inherit the
/// value, so an encoder's worker threads are born with it too (setting it after the start would race their creation).
/// </summary>
internal static class ChildProcessLauncher
{
    private const string Setpriv = "/usr/bin/setpriv";
    private const string Nice = "/usr/bin/nice";

    private static readonly BlockingCollection<(Process Process, TaskCompletionSource Started)> Requests = new();

    /// <summary>Without setpriv (not Linux, or no util-linux) children start plainly; graceful shutdown still stops them.</summary>
    public static bool TiesChildren { get; } = File.Exists(Setpriv);

    static ChildProcessLauncher()
    {
        new Thread(Serve) { IsBackground = true, Name = "Vidline child process launcher" }.Start();
    }

    /// <summary>
    /// The start info that runs <paramref name="executable"/> tied to this process, at <paramref name="niceness"/>
    /// (0, the default, is this process's own priority; 19 the lowest).
    /// </summary>
    public static ProcessStartInfo StartInfoFor(string executable, IEnumerable<string> arguments, int niceness = 0)
    {
        // setpriv and nice each exec the next program in place: the child keeps one pid from setpriv to ffmpeg.
        var command = new List<string>();
        if (TiesChildren) command.AddRange([Setpriv, "--pdeathsig", "KILL", "--"]);
        if (niceness > 0 && File.Exists(Nice)) command.AddRange([Nice, "-n", niceness.ToString(CultureInfo.InvariantCulture)]);
        command.Add(executable);
        var info = new ProcessStartInfo(command[0]);
        foreach (var argument in command.Skip(1).Concat(arguments)) info.ArgumentList.Add(argument);
        return info;
    }

    public static Task StartAsync(Process process)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Requests.Add((process, started));
        return started.Task;
    }

    private static void Serve()
    {
        foreach (var (process, started) in Requests.GetConsumingEnumerable())
        {
            try
            {
                process.Start();
                started.SetResult();
            }
            catch (Exception e)
            {
                started.SetException(e);
            }
        }
    }
}
