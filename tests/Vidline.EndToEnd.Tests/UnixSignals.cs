using System.ComponentModel;
using System.Runtime.InteropServices;

namespace Vidline.EndToEnd.Tests;

/// <summary>The Linux signal numbers the fault tests send (x86-64 and arm64 agree on these).</summary>
public enum UnixSignal
{
    Kill = 9,
    Term = 15,
    Continue = 18,
    Stop = 19,
}

/// <summary>kill(2): .NET can only SIGKILL a process; faults need SIGTERM, SIGSTOP and a SIGKILL that spares the children.</summary>
public static class UnixSignals
{
    [DllImport("libc", SetLastError = true, EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);

    public static void Send(int pid, UnixSignal signal)
    {
        const int NoSuchProcess = 3; // ESRCH: it is already gone, which is what a kill wants
        if (Kill(pid, (int)signal) != 0 && Marshal.GetLastWin32Error() is var error && error != NoSuchProcess)
            throw new Win32Exception(error, $"kill({pid}, {signal}) failed");
    }

    /// <summary>The parent of <paramref name="pid"/> (field 4 of /proc/pid/stat), or null once it is gone.</summary>
    public static int? ParentOf(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // The command name (field 2) is in parentheses and may hold spaces: count fields after its closing one.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return int.Parse(fields[1]);
        }
        catch (IOException) { return null; }
    }

    /// <summary>The processes <paramref name="pid"/> started: each thread lists the children it forked.</summary>
    public static IEnumerable<int> ChildrenOf(int pid)
    {
        string[] threads;
        try { threads = Directory.GetDirectories($"/proc/{pid}/task"); }
        catch (IOException) { yield break; }
        foreach (var thread in threads)
        {
            string children;
            try { children = File.ReadAllText(Path.Combine(thread, "children")); }
            catch (IOException) { continue; }
            foreach (var child in children.Split(' ', StringSplitOptions.RemoveEmptyEntries)) yield return int.Parse(child);
        }
    }

    /// <summary>The command line of <paramref name="pid"/>, arguments separated by spaces; empty once it is gone.</summary>
    public static string CommandLineOf(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' '); }
        catch (IOException) { return ""; }
    }

    public static bool IsAlive(int pid) => Directory.Exists($"/proc/{pid}") && !IsZombie(pid);

    private static bool IsZombie(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[stat.LastIndexOf(')') + 2] == 'Z';
        }
        catch (IOException) { return false; }
    }
}
