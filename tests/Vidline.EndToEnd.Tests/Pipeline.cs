using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Npgsql;

namespace Vidline.EndToEnd.Tests;

/// <summary>Where a pipeline's services find RabbitMQ and PostgreSQL.</summary>
/// <param name="PostgresServer">A connection string without a database: each pipeline adds its own.</param>
public sealed record Infrastructure(int AmqpPort, Uri Management, string PostgresServer)
{
    /// <summary>The servers `scripts/infra.sh up` runs on this machine, shared by every test class but the fault tests.</summary>
    public static Infrastructure Shared { get; } =
        new(5672, new Uri("http://127.0.0.1:15672"), "Host=127.0.0.1;Port=5432;Username=postgres;Password=vidline");
}

/// <summary>
/// The whole system for one test class: its own RabbitMQ virtual host, PostgreSQL database and storage folder,
/// the services of services/services.tsv as processes, and an nginx edge in front, so tests never meet a running
/// `make run`.
/// </summary>
public sealed class Pipeline : IAsyncLifetime
{
    private readonly Infrastructure _infrastructure;
    private readonly HttpClient _management;
    private readonly string _id = $"e2e_{Guid.NewGuid():N}"[..16];
    private readonly Dictionary<string, ServiceProcess> _services = new();
    private readonly List<ServiceProcess> _extraInstances = [];
    private readonly List<HttpClient> _tenantClients = [];

    public string RepoRoot { get; } = FindRepoRoot();
    public ServiceManifest Manifest { get; }
    public string StateDirectory { get; }
    public string StorageRoot => Path.Combine(StateDirectory, "storage");
    public int EdgePort { get; } = FreePort();

    /// <summary>The edge, as the pipeline's own tenant (<see cref="Tenant"/>): every request carries its API key.</summary>
    public HttpClient Edge { get; }

    /// <summary>The tenant <see cref="Edge"/> acts for, and its API key (created with scripts/keys.sh once the services run).</summary>
    public string Tenant => _id;
    public string ApiKey { get; private set; } = "";

    /// <summary>The secret the gateway signs output links with and the edge checks them with, as .run/output-signing-secret is for make run.</summary>
    public string OutputSigningSecret { get; } = Convert.ToHexString(RandomNumberGenerator.GetBytes(32));
    public ClipFactory Clips { get; }

    public Pipeline() : this(Infrastructure.Shared) { }

    /// <summary>On other servers than the shared ones (the fault tests restart theirs). Internal: xUnit wants one public constructor.</summary>
    internal Pipeline(Infrastructure infrastructure)
    {
        _infrastructure = infrastructure;
        _management = new HttpClient
        {
            BaseAddress = infrastructure.Management,
            DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.ASCII.GetBytes("guest:guest"))) },
        };
        Manifest = ServiceManifest.Read(RepoRoot);
        StateDirectory = Directory.CreateTempSubdirectory("vidline-e2e-").FullName;
        Edge = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{EdgePort}"), Timeout = TimeSpan.FromMinutes(2) };
        Clips = new ClipFactory(Path.Combine(StateDirectory, "clips"));
    }

    public ServiceProcess this[string name] => _services[name];

    /// <summary>The RabbitMQ virtual host (and PostgreSQL database suffix) of this pipeline.</summary>
    public string VirtualHost => _id;

    public async Task InitializeAsync()
    {
        await CreateVirtualHostAsync();
        Directory.CreateDirectory(Path.Combine(StateDirectory, "logs"));
        var environment = new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["ConnectionStrings__Postgres"] = $"{_infrastructure.PostgresServer};Database=vidline_{_id}",
            ["RabbitMq__Port"] = _infrastructure.AmqpPort.ToString(),
            ["RabbitMq__VirtualHost"] = _id,
            ["Storage__Root"] = StorageRoot,
            ["Stages__StallTimeout"] = "00:00:08",
            ["Stages__QueueTimeout"] = "00:00:20",
            ["Stages__SweepInterval"] = "00:00:01",
            ["Media__Ladder__Preset"] = "ultrafast",
            ["Sse__HeartbeatSeconds"] = "2",
            ["StageWork__HeartbeatInterval"] = "00:00:02",
            ["StageWork__StopTimeout"] = "00:00:10", // FaultTests holds a stopping node to it
            ["Outputs__SigningSecret"] = OutputSigningSecret,
            ["Streams__TokenSecret"] = Convert.ToHexString(RandomNumberGenerator.GetBytes(32)),
            ["Auth__KeyCacheSeconds"] = "0", // a key revoked by a test is refused at once
            // Storage here can be small (the fault tests' is a 256 MB tmpfs): keep 16 MB free, not the default 1 GiB.
            ["Upload__StorageReserveBytes"] = (16 * 1024 * 1024).ToString(),
        };
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";
        var ports = Manifest.Services.ToDictionary(s => s.Name, _ => FreePort());
        // The gateway answers the edge's /health by asking every service's readiness at these addresses.
        foreach (var (name, port) in ports) environment[$"ServiceAddresses__{name}"] = $"http://127.0.0.1:{port}";
        // As in production, a service that uses no database (services.tsv) gets no database credentials.
        var withoutDatabase = environment.Where(e => !e.Key.StartsWith("ConnectionStrings__")).ToDictionary();
        foreach (var service in Manifest.Services)
        {
            var directory = Path.Combine(RepoRoot, service.Project);
            var dll = Path.Combine(directory, "bin", configuration, "net10.0", service.Assembly + ".dll");
            if (!File.Exists(dll)) throw new FileNotFoundException($"Build the solution first ({configuration}): {dll} is missing.");
            _services[service.Name] = new ServiceProcess(service.Name, directory, dll, ports[service.Name],
                service.Database ? environment : withoutDatabase, Path.Combine(StateDirectory, "logs"));
        }
        // Phase by phase (ingest-api creates and migrates the database first); a phase's services start side by side.
        foreach (var phase in Manifest.Phases)
            await Task.WhenAll(phase.Select(service => _services[service.Name].StartAsync()));
        await RunEdgeScriptAsync("edge-up");
        ApiKey = await CreateKeyAsync(Tenant);
        Edge.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
    }

    /// <summary>A client of the edge for another tenant, with a key of its own.</summary>
    public async Task<HttpClient> NewTenantClientAsync(string tenant)
    {
        var client = new HttpClient { BaseAddress = Edge.BaseAddress, Timeout = Edge.Timeout };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await CreateKeyAsync(tenant));
        _tenantClients.Add(client);
        return client;
    }

    /// <summary>A new key of <paramref name="tenant"/>, made the way an operator makes one: <c>scripts/keys.sh create</c>.</summary>
    public async Task<string> CreateKeyAsync(string tenant) => (await KeysAsync("create", tenant)).Trim().Split('\n')[^1];

    /// <summary>Runs scripts/keys.sh against this pipeline's database; its standard output.</summary>
    public async Task<string> KeysAsync(params string[] arguments)
    {
        var server = new NpgsqlConnectionStringBuilder(_infrastructure.PostgresServer);
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = RepoRoot };
        info.ArgumentList.Add(Path.Combine(RepoRoot, "scripts", "keys.sh"));
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        info.Environment["VIDLINE_STATE"] = StateDirectory;
        info.Environment["PG_DATABASE"] = $"vidline_{_id}";
        info.Environment["PG_PORT"] = server.Port.ToString();
        info.Environment["PG_PASSWORD"] = server.Password;
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0) throw new InvalidOperationException($"keys.sh {string.Join(' ', arguments)} failed: {error}");
        return await output;
    }

    public async Task DisposeAsync()
    {
        foreach (var service in _services.Values.Concat(_extraInstances)) service.Kill();
        await RunEdgeScriptAsync("edge-down");
        await DeleteVirtualHostAsync();
        await using (var connection = new NpgsqlConnection($"{_infrastructure.PostgresServer};Database=postgres"))
        {
            await connection.OpenAsync();
            await new NpgsqlCommand($"DROP DATABASE IF EXISTS vidline_{_id} WITH (FORCE)", connection).ExecuteNonQueryAsync();
        }
        try { Directory.Delete(StateDirectory, recursive: true); } catch (IOException) { }
        Edge.Dispose();
        foreach (var client in _tenantClients) client.Dispose();
        _management.Dispose();
    }

    /// <summary>Another process of a service, as an operator scaling out would start it.</summary>
    public async Task<ServiceProcess> StartAnotherAsync(string name, IReadOnlyDictionary<string, string>? overrides = null)
    {
        var first = _services[name];
        var another = first.Another(FreePort(), $"{name}-{_extraInstances.Count + 2}");
        _extraInstances.Add(another);
        await another.StartAsync(overrides);
        return another;
    }

    /// <summary>kill -9 a service, then start it again (optionally with different settings).</summary>
    public async Task RestartAsync(string name, IReadOnlyDictionary<string, string>? overrides = null)
    {
        _services[name].Kill();
        await _services[name].StartAsync(overrides);
    }

    /// <summary>Every service of the manifest running with the usual settings again, after a test stopped, crashed or reconfigured some.</summary>
    public async Task RestoreAsync()
    {
        foreach (var service in _services.Values.Where(s => s.Pid is null || s.Overridden))
        {
            service.Kill();
            await service.StartAsync();
        }
    }

    /// <summary>ffmpeg processes working on <paramref name="jobId"/> (their command lines name the job's folders).</summary>
    public static IReadOnlyList<int> FfmpegProcessesOf(Guid jobId) =>
        Process.GetProcessesByName("ffmpeg").Where(p =>
        {
            try { return File.ReadAllText($"/proc/{p.Id}/cmdline").Contains(jobId.ToString("N")); }
            catch (IOException) { return false; }
        }).Select(p => p.Id).ToList();

    /// <summary>Every service's log tail, for a failing assertion's message.</summary>
    public string Logs() => string.Join("\n", _services.Values.Select(s => $"----- {s.Name}\n{s.Tail(25)}"));

    // ---- the public API, through the edge

    /// <param name="client">Another tenant's client (<see cref="NewTenantClientAsync"/>); <see cref="Edge"/> by default.</param>
    public async Task<HttpResponseMessage> UploadAsync(string path, string? key = null, int? priority = null, string? idempotencyKey = null,
        HttpClient? client = null)
    {
        using var form = new MultipartFormDataContent();
        var file = new StreamContent(File.OpenRead(path));
        file.Headers.ContentType = new MediaTypeHeaderValue("video/mp4");
        form.Add(file, "video", Path.GetFileName(path));
        if (key is not null) form.Add(new StringContent(key), "key");
        if (priority is not null) form.Add(new StringContent(priority.Value.ToString()), "priority");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/process") { Content = form };
        if (idempotencyKey is not null) request.Headers.Add("Idempotency-Key", idempotencyKey);
        return await (client ?? Edge).SendAsync(request);
    }

    public async Task<Guid> SubmitAsync(string path, int? priority = null, HttpClient? client = null)
    {
        var response = await UploadAsync(path, priority: priority, client: client);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"upload answered {(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("job_id").GetGuid();
    }

    public async Task<JsonElement> JobAsync(Guid jobId)
    {
        var response = await Edge.GetAsync($"/jobs/{jobId}");
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>());
    }

    /// <summary>Polls GET /jobs/{id} until <paramref name="until"/> holds.</summary>
    public async Task<JsonElement> WaitForJobAsync(Guid jobId, Func<JsonElement, bool> until, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(90));
        JsonElement job = default;
        while (DateTime.UtcNow < deadline)
        {
            var response = await Edge.GetAsync($"/jobs/{jobId}");
            if (response.IsSuccessStatusCode)
            {
                job = await response.Content.ReadFromJsonAsync<JsonElement>();
                if (until(job)) return job;
            }
            await Task.Delay(250);
        }
        throw new TimeoutException($"job {jobId} never got there; last seen: {job}\n{Logs()}");
    }

    public Task<JsonElement> WaitForStatusAsync(Guid jobId, string status, TimeSpan? timeout = null) =>
        WaitForJobAsync(jobId, j => j.GetProperty("status").GetString() == status, timeout);

    /// <summary>Reads a job's SSE stream through the edge until the server closes it.</summary>
    public async Task<IReadOnlyList<SseEvent>> StreamAsync(Guid jobId, TimeSpan? timeout = null, string? lastEventId = null)
    {
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(90));
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/jobs/{jobId}/stream");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        if (lastEventId is not null) request.Headers.Add("Last-Event-ID", lastEventId);
        using var response = await Edge.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancel.Token);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = new List<SseEvent>();
        try
        {
            await SseEvent.ReadAllAsync(await response.Content.ReadAsStreamAsync(cancel.Token), events, cancel.Token);
            return events;
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            var job = await Edge.GetStringAsync($"/jobs/{jobId}");
            throw new TimeoutException($"stream of {jobId} did not end; got {string.Join(", ", events.Select(x => $"{x.Id}:{x.Type}"))}\njob: {job}\n{Logs()}");
        }
    }

    /// <summary>ffprobe over HTTP through the edge, as a player would fetch it.</summary>
    public async Task<string> ProbeUrlAsync(string relativeUrl, params string[] extra)
    {
        var info = new ProcessStartInfo("ffprobe") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-v", "error" }.Concat(extra).Append($"http://127.0.0.1:{EdgePort}{relativeUrl}")) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"ffprobe {relativeUrl} failed: {error}");
        return output;
    }

    /// <summary>
    /// Renders and reloads the edge with these settings of scripts/infra.sh (EDGE_STREAMS_PER_IP, ...) on top of the
    /// defaults; an empty set restores them.
    /// </summary>
    public Task ReconfigureEdgeAsync(IReadOnlyDictionary<string, string> settings)
    {
        _edgeSettings = settings;
        return RunEdgeScriptAsync("edge-up");
    }

    // ---- plumbing

    private IReadOnlyDictionary<string, string> _edgeSettings = new Dictionary<string, string>();

    private async Task RunEdgeScriptAsync(string command)
    {
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = RepoRoot };
        info.ArgumentList.Add(Path.Combine(RepoRoot, "scripts", "infra.sh"));
        info.ArgumentList.Add(command);
        info.Environment["VIDLINE_STATE"] = StateDirectory;
        info.Environment["VIDLINE_STORAGE"] = StorageRoot;
        info.Environment["EDGE_PORT"] = EdgePort.ToString();
        info.Environment["OUTPUT_SIGNING_SECRET"] = OutputSigningSecret;
        foreach (var service in Manifest.Services) info.Environment[service.PortVariable] = _services[service.Name].Port.ToString();
        foreach (var (name, value) in _edgeSettings) info.Environment[name] = value;
        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0) throw new InvalidOperationException($"infra.sh {command} failed: {output}");
    }

    private async Task CreateVirtualHostAsync()
    {
        (await _management.PutAsync($"/api/vhosts/{_id}", JsonContent.Create(new { }))).EnsureSuccessStatusCode();
        (await _management.PutAsync($"/api/permissions/{_id}/guest", JsonContent.Create(new { configure = ".*", write = ".*", read = ".*" })))
            .EnsureSuccessStatusCode();
    }

    private Task DeleteVirtualHostAsync() => _management.DeleteAsync($"/api/vhosts/{_id}");

    /// <summary>Messages waiting in a queue of this pipeline's virtual host.</summary>
    public async Task<int> QueueDepthAsync(string queue)
    {
        var queueInfo = await _management.GetFromJsonAsync<JsonElement>($"/api/queues/{_id}/{queue}");
        return queueInfo.TryGetProperty("messages", out var messages) ? messages.GetInt32() : 0;
    }

    /// <summary>Every queue of this pipeline's virtual host, with its type (classic or quorum).</summary>
    public async Task<IReadOnlyDictionary<string, string>> QueueTypesAsync() =>
        (await _management.GetFromJsonAsync<JsonElement>($"/api/queues/{_id}")).EnumerateArray()
            .ToDictionary(q => q.GetProperty("name").GetString()!, q => q.GetProperty("type").GetString()!);

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    internal static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Vidline.slnx"))) return dir.FullName;
        throw new InvalidOperationException("Vidline.slnx not found above the test binaries.");
    }
}
