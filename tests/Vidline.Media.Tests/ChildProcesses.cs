namespace Vidline.Media.Tests;

/// <summary>Reads /proc to find this test process's ffmpeg children (Linux only, like the pipeline).</summary>
internal static class ChildProcesses
{
    public static IReadOnlyList<int> Ffmpeg()
    {
        var me = Environment.ProcessId;
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
                if (ppid == me && comm == "ffmpeg") found.Add(pid);
            }
            catch (IOException) { }   // exited while we looked
            catch (UnauthorizedAccessException) { }
        }
        return found;
    }

    public static bool IsAlive(int pid) => File.Exists($"/proc/{pid}/stat");
}
