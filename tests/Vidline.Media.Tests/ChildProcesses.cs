namespace Vidline.Media.Tests;

/// <summary>Reads /proc to find ffmpeg child processes (Linux only, like the pipeline), and signals them.</summary>
internal static class ChildProcesses
{
    /// <summary>This test process's ffmpeg children.</summary>
    public static IReadOnlyList<int> Ffmpeg() => FfmpegOf(Environment.ProcessId);

    /// <summary>The ffmpeg children of process <paramref name="parent"/>.</summary>
    public static IReadOnlyList<int> FfmpegOf(int parent)
    {
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            try
            {
                // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may contain spaces, so split after ')'.
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var close = stat.LastIndexOf(')');
                var comm = stat[(stat.IndexOf('(') + 1)..close];
                var ppid = int.Parse(stat[(close + 2)..].Split(' ')[1]);
                if (ppid == parent && comm == "ffmpeg") found.Add(pid);
            }
            catch (IOException) { }   // exited while we looked
            catch (UnauthorizedAccessException) { }
        }
        return found;
    }

    /// <summary>The child of this test process with <paramref name="marker"/> in its command line, if it is running.</summary>
    public static int? WithArgument(string marker)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                if (int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1]) != Environment.ProcessId) continue;
                if (File.ReadAllText(Path.Combine(dir, "cmdline")).Contains(marker, StringComparison.Ordinal)) return pid;
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return null;
    }

    /// <summary>A process's nice value (field 19 of /proc/&lt;pid&gt;/stat).</summary>
    public static int Niceness(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        // After "pid (comm) " the fields start at 3 (state): field 19 is the 17th.
        return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[16]);
    }

    /// <summary>Alive and not a zombie waiting to be reaped.</summary>
    public static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)] != 'Z';
        }
        catch (IOException) { return false; }
    }

    /// <summary>Sends <paramref name="signal"/> (KILL, STOP, CONT, ...) with kill(1), as an operator or the kernel would.</summary>
    public static void Signal(int pid, string signal)
    {
        using var kill = System.Diagnostics.Process.Start("kill", ["-" + signal, pid.ToString()]);
        kill.WaitForExit();
    }

    /// <summary>Waits, polling /proc, until <paramref name="condition"/> holds; false if it never does within <paramref name="limit"/>.</summary>
    public static async Task<bool> EventuallyAsync(Func<bool> condition, TimeSpan limit)
    {
        var until = DateTime.UtcNow + limit;
        while (!condition())
        {
            if (DateTime.UtcNow > until) return false;
            await Task.Delay(50);
        }
        return true;
    }
}
