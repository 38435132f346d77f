namespace Vidline.EndToEnd.Tests;

/// <summary>
/// A PostgreSQL 15 cluster of the fault tests' own, on a free port, so restarting it never touches the shared
/// server. initdb refuses root, so it runs as `postgres`, in a folder that user can reach (not under a 0700 temp folder).
/// </summary>
public sealed class PrivateDatabase : IAsyncDisposable
{
    private const string Binaries = "/usr/lib/postgresql/15/bin";
    private readonly string _directory = Path.Combine("/var/tmp", $"vidline-fault-pg-{Guid.NewGuid():N}"[..28]);
    private string Data => Path.Combine(_directory, "data");

    public int Port { get; } = Pipeline.FreePort();

    /// <summary>Host connections are trusted here, so the password the services send is accepted whatever it is.</summary>
    public string Server => $"Host=127.0.0.1;Port={Port};Username=postgres;Password=vidline";

    public async Task StartAsync()
    {
        Directory.CreateDirectory(_directory);
        await HostCommand.RunAsync("chown", ["postgres:postgres", _directory]);
        await AsPostgres("initdb", "-D", Data, "-U", "postgres", "--auth-local=trust", "--auth-host=trust", "-E", "UTF8", "--locale=C.UTF-8");
        await StartServerAsync();
    }

    /// <summary>A fast shutdown (every connection dropped, in-flight transactions rolled back), <paramref name="outage"/> down, then up again.</summary>
    public async Task RestartAsync(TimeSpan outage)
    {
        await AsPostgres("pg_ctl", "-D", Data, "-m", "fast", "-w", "stop");
        await Task.Delay(outage);
        await StartServerAsync();
    }

    /// <summary>Makes sure the server runs (a test that failed halfway may have left it stopped).</summary>
    public async Task EnsureRunningAsync()
    {
        try { await AsPostgres("pg_ctl", "-D", Data, "status"); }
        catch (InvalidOperationException) { await StartServerAsync(); }
    }

    public async ValueTask DisposeAsync()
    {
        try { await AsPostgres("pg_ctl", "-D", Data, "-m", "immediate", "-w", "stop"); }
        catch (InvalidOperationException) { } // not running
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }

    private Task StartServerAsync() =>
        AsPostgres("pg_ctl", "-D", Data, "-l", Path.Combine(_directory, "server.log"), "-w", "-t", "60",
            "-o", $"-c listen_addresses=127.0.0.1 -c max_connections=200 -p {Port} -k {_directory}", "start");

    private static Task<string> AsPostgres(string tool, params string[] arguments) =>
        HostCommand.RunAsync("runuser", new[] { "-u", "postgres", "--", Path.Combine(Binaries, tool) }.Concat(arguments));
}
