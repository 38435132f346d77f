using System.Diagnostics;

namespace Vidline.EndToEnd.Tests;

/// <summary>One Vidline service running as its own process, with its output kept in a log file.</summary>
public sealed class ServiceProcess(string name, string projectDirectory, string dll, int port, IReadOnlyDictionary<string, string> environment, string logDirectory)
{
    private Process? _process;

    public string Name => name;

    public ServiceProcess Another(int otherPort, string otherName) =>
        new(otherName, projectDirectory, dll, otherPort, environment, logDirectory);
    public int Port => port;
    public string BaseUrl => $"http://127.0.0.1:{port}";
    public string LogPath => Path.Combine(logDirectory, $"{name}.log");
    public int? Pid => _process is { HasExited: false } p ? p.Id : null;

    /// <summary>Whether the last start changed a setting (a test's special configuration, to be undone after it).</summary>
    public bool Overridden { get; private set; }

    public async Task StartAsync(IReadOnlyDictionary<string, string>? overrides = null)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = projectDirectory, // content root: appsettings.json and wwwroot
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(dll);
        info.ArgumentList.Add("--urls");
        info.ArgumentList.Add(BaseUrl);
        foreach (var (key, value) in environment) info.Environment[key] = value;
        info.Environment["Service__Node"] = name;
        foreach (var (key, value) in overrides ?? new Dictionary<string, string>()) info.Environment[key] = value;
        Overridden = overrides is { Count: > 0 };

        var log = new StreamWriter(LogPath, append: true) { AutoFlush = true };
        _process = new Process { StartInfo = info, EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                // The parameterless wait also waits until the output readers have drained: without it the log's
                // last lines (often the reason the process died) may not be written yet.
                _process.WaitForExit();
                throw new InvalidOperationException($"{name} exited with {_process.ExitCode}:\n{Tail()}");
            }
            try
            {
                if ((await http.GetAsync($"{BaseUrl}/health")).IsSuccessStatusCode) return;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(250);
        }
        throw new TimeoutException($"{name} did not become healthy:\n{Tail()}");
    }

    /// <summary>
    /// A signal to the service's own process, not its children: SIGKILL is a node crashing, SIGTERM an operator
    /// stopping it. Whatever ffmpeg it started must then go by the service's own means.
    /// </summary>
    public void Send(UnixSignal signal)
    {
        if (_process is { HasExited: false } p) UnixSignals.Send(p.Id, signal);
    }

    /// <summary>Waits up to <paramref name="timeout"/> for the process to exit; false if it still runs.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        if (_process is null) return true;
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
            return true;
        }
        catch (OperationCanceledException) { return false; }
    }

    /// <summary>kill -9 of the service and everything it started: test hygiene, not a fault.</summary>
    public void Kill()
    {
        if (_process is { HasExited: false } p)
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit(10_000);
        }
    }

    public string Tail(int lines = 60)
    {
        try
        {
            using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            var all = new StreamReader(stream).ReadToEnd().Split('\n');
            return string.Join('\n', all.TakeLast(lines));
        }
        catch (IOException) { return "(no log)"; }
    }
}
