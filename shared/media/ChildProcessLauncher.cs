using System.Collections.Concurrent;
using System.Diagnostics;

namespace Vidline.Media;

/// <summary>
/// Starts child processes so that none outlives this process, even when it is killed with SIGKILL.
/// Each child runs under <c>setpriv --pdeathsig KILL</c>, which asks the kernel to kill it when its parent dies.
/// The kernel means the parent <em>thread</em>: the one that forked. .NET forks from the calling thread, and a
/// thread-pool thread may retire while its ffmpeg still runs, so every start happens on one dedicated thread that
/// lives as long as the process.
/// </summary>
internal static class ChildProcessLauncher
{
    private const string Setpriv = "/usr/bin/setpriv";

    private static readonly BlockingCollection<(Process Process, TaskCompletionSource Started)> Requests = new();

    /// <summary>Without setpriv (not Linux, or no util-linux) children start plainly; graceful shutdown still stops them.</summary>
    public static bool TiesChildren { get; } = File.Exists(Setpriv);

    static ChildProcessLauncher()
    {
        new Thread(Serve) { IsBackground = true, Name = "Vidline child process launcher" }.Start();
    }

    /// <summary>The start info that runs <paramref name="executable"/> tied to this process.</summary>
    public static ProcessStartInfo StartInfoFor(string executable, IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo(TiesChildren ? Setpriv : executable);
        if (TiesChildren) foreach (var a in (string[])["--pdeathsig", "KILL", "--", executable]) info.ArgumentList.Add(a);
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
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
