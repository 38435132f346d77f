using System.Diagnostics;

namespace Vidline.ProgressGateway.Tests.Integration;

/// <summary>
/// A PostgreSQL cluster of the test's own, in a temporary folder on a free port, that a test may stop and start
/// at will without disturbing the machine's shared server. initdb refuses root, so the cluster belongs to the
/// <c>postgres</c> user (the test runs as root and switches with runuser).
/// </summary>
public sealed class PrivatePostgres : IAsyncDisposable
{
    private const string Bin = "/usr/lib/postgresql/15/bin";
    private readonly string _folder;

    private PrivatePostgres(string folder, int port)
    {
        _folder = folder;
        Port = port;
    }

    public int Port { get; }
    private string Data => Path.Combine(_folder, "data");

    public string ConnectionString(string database) =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Password=unused;Database={database}";

    public static async Task<PrivatePostgres> StartNewAsync()
    {
        var folder = Directory.CreateTempSubdirectory("vidline-pg-").FullName;
        var cluster = new PrivatePostgres(folder, LocalServers.FreePort());
        await Run("chown", "postgres:postgres", folder);
        // Trust: only loopback can reach it, and it lives as long as the test. No fsync: nothing here must survive a power cut.
        await AsPostgres("initdb", "-D", cluster.Data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync");
        await cluster.StartAsync();
        return cluster;
    }

    public Task StartAsync() => AsPostgres("pg_ctl", "-D", Data, "-l", Path.Combine(_folder, "server.log"), "-w",
        "-o", $"-c listen_addresses=127.0.0.1 -p {Port} -k {_folder} -c fsync=off", "start");

    /// <summary>Fast shutdown: open connections are cut, as when an operator restarts the server.</summary>
    public Task StopAsync() => AsPostgres("pg_ctl", "-D", Data, "-m", "fast", "-w", "stop");

    public async ValueTask DisposeAsync()
    {
        try { await AsPostgres("pg_ctl", "-D", Data, "-m", "immediate", "-w", "stop"); }
        catch (InvalidOperationException) { } // already stopped
        Directory.Delete(_folder, recursive: true);
    }

    private static Task AsPostgres(string tool, params string[] arguments) =>
        Run("runuser", ["-u", "postgres", "--", Path.Combine(Bin, tool), .. arguments]);

    private static async Task Run(string file, params string[] arguments)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} exited with {process.ExitCode}: {await output}{await errors}");
    }
}
