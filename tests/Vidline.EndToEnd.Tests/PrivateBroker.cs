namespace Vidline.EndToEnd.Tests;

/// <summary>
/// A RabbitMQ node of the fault tests' own (own node name, ports and state folder), so restarting it never
/// touches the broker everyone else on this machine uses. The management plugin is on: the pipeline creates
/// its virtual host through it, as it does on the shared broker.
/// </summary>
public sealed class PrivateBroker : IAsyncDisposable
{
    private const string Binaries = "/usr/lib/rabbitmq/bin";
    private readonly string _directory = Directory.CreateTempSubdirectory("vidline-fault-rabbit-").FullName;
    private readonly Dictionary<string, string> _environment;

    public string Node { get; } = $"vidline-fault-{Guid.NewGuid():N}"[..22] + "@localhost";
    public int AmqpPort { get; } = Pipeline.FreePort();
    public int ManagementPort { get; } = Pipeline.FreePort();
    public Uri Management => new($"http://127.0.0.1:{ManagementPort}");

    public PrivateBroker()
    {
        foreach (var folder in new[] { "home", "mnesia", "log" }) Directory.CreateDirectory(Path.Combine(_directory, folder));
        File.WriteAllText(Path.Combine(_directory, "rabbitmq.conf"), $"""
            listeners.tcp.default = 127.0.0.1:{AmqpPort}
            management.tcp.ip = 127.0.0.1
            management.tcp.port = {ManagementPort}
            loopback_users.guest = true
            """);
        _environment = new Dictionary<string, string>
        {
            ["HOME"] = Path.Combine(_directory, "home"), // the Erlang cookie lives here
            ["RABBITMQ_NODENAME"] = Node,
            ["RABBITMQ_NODE_IP_ADDRESS"] = "127.0.0.1",
            ["RABBITMQ_NODE_PORT"] = AmqpPort.ToString(),
            ["RABBITMQ_DIST_PORT"] = Pipeline.FreePort().ToString(),
            ["RABBITMQ_MNESIA_BASE"] = Path.Combine(_directory, "mnesia"),
            ["RABBITMQ_LOG_BASE"] = Path.Combine(_directory, "log"),
            ["RABBITMQ_PID_FILE"] = Path.Combine(_directory, "rabbit.pid"),
            ["RABBITMQ_ENABLED_PLUGINS_FILE"] = Path.Combine(_directory, "enabled_plugins"),
            ["RABBITMQ_CONFIG_FILE"] = Path.Combine(_directory, "rabbitmq"),
            ["ERL_EPMD_ADDRESS"] = "127.0.0.1",
            ["RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"] = "-kernel inet_dist_use_interface {127,0,0,1}",
            ["PATH"] = $"{Binaries}:{Environment.GetEnvironmentVariable("PATH")}",
        };
    }

    public async Task StartAsync()
    {
        await Tool("rabbitmq-plugins", "enable", "--offline", "rabbitmq_management");
        // Detached, with its output in a file: a server holding our pipes open would keep the command from ending.
        var startupLog = Path.Combine(_directory, "log", "startup.log");
        await HostCommand.RunAsync("bash", ["-c", $"setsid {Binaries}/rabbitmq-server -detached </dev/null >>'{startupLog}' 2>&1"], _environment);
        var pidFile = _environment["RABBITMQ_PID_FILE"];
        for (var i = 0; i < 100 && !File.Exists(pidFile); i++) await Task.Delay(100);
        await Tool("rabbitmqctl", "wait", "--timeout", "90", pidFile);
        await ManagementAnswersAsync();
    }

    /// <summary>The RabbitMQ application stops (every connection drops) and comes back after <paramref name="outage"/>; durable queues and their messages stay.</summary>
    public async Task RestartAsync(TimeSpan outage)
    {
        await Tool("rabbitmqctl", "stop_app");
        await Task.Delay(outage);
        await Tool("rabbitmqctl", "start_app");
        await ManagementAnswersAsync();
    }

    /// <summary>Makes sure the application runs (a test that failed halfway may have left it stopped).</summary>
    public Task EnsureRunningAsync() => Tool("rabbitmqctl", "start_app");

    /// <summary>Every queue of <paramref name="virtualHost"/> with its ready + unacknowledged messages, straight from the node (no statistics lag).</summary>
    public async Task<IReadOnlyDictionary<string, int>> QueuesAsync(string virtualHost)
    {
        var output = await Tool("rabbitmqctl", "list_queues", "-q", "--no-table-headers", "-p", virtualHost, "name", "messages");
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split('\t'))
            .ToDictionary(fields => fields[0], fields => int.Parse(fields[1]));
    }

    public Task PurgeAsync(string virtualHost, string queue) => Tool("rabbitmqctl", "purge_queue", "-p", virtualHost, queue);

    public async ValueTask DisposeAsync()
    {
        try { await Tool("rabbitmqctl", "shutdown"); }
        catch (InvalidOperationException) { } // already down
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }

    private async Task ManagementAnswersAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        for (var i = 0; i < 120; i++)
        {
            try
            {
                if ((await http.GetAsync(new Uri(Management, "/api/overview"))).StatusCode != System.Net.HttpStatusCode.ServiceUnavailable) return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { }
            await Task.Delay(250);
        }
        throw new TimeoutException($"RabbitMQ node {Node}: the management API on :{ManagementPort} never answered");
    }

    private Task<string> Tool(string tool, params string[] arguments) =>
        HostCommand.RunAsync(Path.Combine(Binaries, tool), new[] { "-n", Node }.Concat(arguments), _environment);
}
