using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Vidline.EndToEnd.Tests;

/// <summary>
/// The hostile suite's world, started once for the class: a pipeline, the media it throws at it, a finished job of the
/// test's tenant and one of another tenant, a secret file beside the storage folder that no URL may reach, and a ledger
/// of every 202 the edge gave. <see cref="AssertUnharmedAsync"/> checks, after each case, that the system came through.
/// </summary>
public sealed class HostileWorld : IAsyncLifetime
{
    private readonly ConcurrentBag<Guid> _accepted = [];
    // Harm already reported by an earlier case is not reported again: each finding belongs to the case that caused it.
    private readonly HashSet<string> _reported = [];
    private readonly Dictionary<string, int> _deadLetters = [];
    // Every tenant a case made lives as long as the world: its jobs are looked up (and its files judged) after the case.
    private readonly List<Tenant> _tenants = [];

    public Pipeline Pipeline { get; } = new();
    public HostileClient Client { get; private set; } = null!;

    /// <summary>Another tenant, with a finished job of its own (<see cref="ForeignJob"/>).</summary>
    public Tenant Other { get; private set; } = null!;

    public byte[] Clip { get; private set; } = null!;
    public byte[] Image { get; private set; } = null!;
    public byte[] AudioOnly { get; private set; } = null!;
    public byte[] TruncatedMp4 { get; private set; } = null!;
    public byte[] Text { get; private set; } = null!;
    public byte[] Empty { get; } = [];
    public byte[] Zeros { get; } = new byte[1 << 20];

    public Guid CompletedJob { get; private set; }
    public string CompletedPlaylist { get; private set; } = null!;
    public Guid ForeignJob { get; private set; }

    public string SecretPath => Path.Combine(Pipeline.StateDirectory, "hostile-secret.txt");
    public string Secret { get; } = $"hostile-secret-{Guid.NewGuid():N}";

    public async Task InitializeAsync()
    {
        await Pipeline.InitializeAsync();
        Client = new HostileClient(Pipeline.EdgePort, Pipeline.Edge, _accepted);
        Other = await NewTenantAsync("hostile-other");
        var clips = Pipeline.Clips;
        Clip = await File.ReadAllBytesAsync(await clips.ClipAsync("hostile", 320, 180, 1));
        Image = await File.ReadAllBytesAsync(await clips.StillImageAsync("hostile-image"));
        AudioOnly = await File.ReadAllBytesAsync(await clips.AudioOnlyAsync("hostile-audio"));
        TruncatedMp4 = await File.ReadAllBytesAsync(await clips.TruncatedAsync("hostile-truncated"));
        Text = await File.ReadAllBytesAsync(await clips.TextFileAsync("hostile.txt"));
        await File.WriteAllTextAsync(SecretPath, Secret);

        CompletedJob = await SubmitAsync(Client, "hostile-finished");
        ForeignJob = await SubmitAsync(Other.Client, "hostile-foreign");
        var finished = await WaitForFinalAsync(CompletedJob);
        Assert.Equal("completed", finished.GetProperty("status").GetString());
        CompletedPlaylist = finished.GetProperty("result").GetProperty("hls_manifest_url").GetString()!;
        Assert.Equal("completed", (await WaitForFinalAsync(ForeignJob)).GetProperty("status").GetString());
    }

    public async Task DisposeAsync()
    {
        foreach (var tenant in _tenants) tenant.Http.Dispose();
        await Pipeline.DisposeAsync();
    }

    /// <summary>
    /// Until the gateway holds no stream: nginx notices a client gone from a quiet stream only at its next write (a
    /// heartbeat), and until then the flood's connections still count against the edge, and would against the next case.
    /// </summary>
    public async Task WaitForStreamsClosedAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            var stats = await Pipeline.Edge.GetFromJsonAsync<JsonElement>("/progress/stats");
            if (stats.GetProperty("connected_clients").GetProperty("total").GetInt32() == 0) return;
            await Task.Delay(250);
        }
    }

    /// <summary>The edge's own error log, last lines: why nginx cut or refused a connection.</summary>
    public string EdgeLog()
    {
        var log = Path.Combine(Pipeline.StateDirectory, "nginx", "logs", "error.log");
        return File.Exists(log) ? string.Join("\n", File.ReadLines(log).TakeLast(15)) : "(no edge error log)";
    }

    /// <summary>A new tenant with its own key, as an HttpClient and as a hostile client.</summary>
    public async Task<Tenant> NewTenantAsync(string name)
    {
        var http = await Pipeline.NewTenantClientAsync(name);
        var tenant = new Tenant(http, new HostileClient(Pipeline.EdgePort, http, _accepted));
        _tenants.Add(tenant);
        return tenant;
    }

    /// <summary>Uploads the small clip and waits for its 202.</summary>
    public async Task<Guid> SubmitAsync(HostileClient client, string key)
    {
        var answer = await client.SendAsync(HostileRequest.Upload(HostileForm.Of(FormPart.Field("key", key), FormPart.Video(Clip))));
        Assert.True(answer.Status == 202, $"the upload of '{key}' was not accepted: {answer}");
        return JobIdOf(answer);
    }

    public static Guid JobIdOf(Answer answer) => JsonDocument.Parse(answer.Body).RootElement.GetProperty("job_id").GetGuid();

    /// <summary>The job as whichever tenant owns it sees it, or null when no tenant has it.</summary>
    public async Task<JsonElement?> FindJobAsync(Guid jobId)
    {
        foreach (var tenant in _tenants.Select(t => t.Http).Prepend(Pipeline.Edge))
        {
            var response = await tenant.GetAsync($"/jobs/{jobId}");
            if (response.StatusCode == HttpStatusCode.OK) return await response.Content.ReadFromJsonAsync<JsonElement>();
        }
        return null;
    }

    public async Task<JsonElement> WaitForFinalAsync(Guid jobId)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        JsonElement? job = null;
        while (DateTime.UtcNow < deadline)
        {
            job = await FindJobAsync(jobId);
            if (job?.GetProperty("status").GetString() is "completed" or "failed" or "cancelled") return job.Value;
            await Task.Delay(250);
        }
        throw new TimeoutException($"job {jobId} never ended; last seen: {job}\n{Pipeline.Logs()}");
    }

    /// <summary>
    /// After a case: every service healthy, no new message in an `_error` queue, every 202 names a job that exists
    /// (and whose upload did not fail after the 202), and no file left in storage for a job that does not exist or has
    /// no use for it any more. Storage is cleaned as jobs end, asynchronously: it is looked at until clean, for a while.
    /// </summary>
    public async Task AssertUnharmedAsync()
    {
        var findings = new List<string>();
        findings.AddRange(await SickServicesAsync());
        findings.AddRange(await UnfoundedAcceptancesAsync());
        foreach (var finished in new[] { CompletedJob, ForeignJob })
            if ((await FindJobAsync(finished))?.GetProperty("status").GetString() != "completed") findings.Add($"the finished job {finished} was changed");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        List<string> leftovers;
        while ((leftovers = await NewAsync(LeftoversAsync())).Count > 0 && DateTime.UtcNow < deadline) await Task.Delay(500);
        findings.AddRange(leftovers);
        findings.AddRange(await DeadLettersAsync());
        _reported.UnionWith(findings);
        Assert.True(findings.Count == 0, $"the system did not come through unharmed:\n- {string.Join("\n- ", findings)}\n\n{Pipeline.Logs()}");
    }

    private async Task<List<string>> NewAsync(IAsyncEnumerable<string> findings) =>
        await findings.Where(f => !_reported.Contains(f)).ToListAsync();

    private async Task<IEnumerable<string>> SickServicesAsync()
    {
        var findings = new List<string>();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        foreach (var service in Pipeline.Manifest.Services)
        {
            try
            {
                var health = await http.GetFromJsonAsync<JsonElement>($"{Pipeline[service.Name].BaseUrl}/health");
                if (health.GetProperty("status").GetString() != "healthy") findings.Add($"{service.Name} is not healthy: {health}");
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
            {
                findings.Add($"{service.Name} does not answer /health: {e.Message}");
            }
        }
        var edge = await Client.SendAsync(HostileRequest.Get("/health"));
        if (edge.Status != 200 || edge.MediaType != "application/json") findings.Add($"the edge's /health answers {edge}");
        return findings;
    }

    private async Task<IEnumerable<string>> UnfoundedAcceptancesAsync()
    {
        var findings = new List<string>();
        foreach (var jobId in _accepted.Distinct())
        {
            var job = await FindJobAsync(jobId);
            if (job is null) findings.Add($"202 was answered for job {jobId}, which does not exist");
            else if (job.Value.GetProperty("status").GetString() == "failed" && job.Value.GetProperty("stage").GetString() == "uploading")
                findings.Add($"202 was answered for job {jobId}, whose upload failed: {job.Value.GetProperty("error_message")}");
        }
        return findings;
    }

    private async Task<IEnumerable<string>> DeadLettersAsync()
    {
        var findings = new List<string>();
        foreach (var queue in (await Pipeline.QueueTypesAsync()).Keys.Where(q => q.EndsWith("_error")))
        {
            var depth = await Pipeline.QueueDepthAsync(queue);
            if (depth > _deadLetters.GetValueOrDefault(queue)) findings.Add($"{queue} holds {depth} message(s)");
            _deadLetters[queue] = depth;
        }
        return findings;
    }

    private string Contents(string entry)
    {
        if (!Directory.Exists(entry)) return "a file";
        var files = Directory.EnumerateFiles(entry, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(Pipeline.StorageRoot, f)).ToList();
        return files.Count == 0
            ? $"empty folders: {string.Join(", ", Directory.EnumerateDirectories(entry, "*", SearchOption.AllDirectories).Select(d => Path.GetRelativePath(entry, d)).DefaultIfEmpty("none"))}"
            : string.Join(", ", files);
    }

    /// <summary>
    /// Files a job has no use for (JobFiles' rules): anything of a job that does not exist or was cancelled, the upload
    /// of a job that failed during it, the work folder of a completed job. A failed job keeps the rest, for its retry.
    /// </summary>
    private async IAsyncEnumerable<string> LeftoversAsync()
    {
        foreach (var top in new[] { "uploads", "work", "outputs" })
        {
            var folder = Path.Combine(Pipeline.StorageRoot, top);
            if (!Directory.Exists(folder)) continue;
            foreach (var entry in Directory.EnumerateFileSystemEntries(folder))
            {
                var name = Path.GetFileName(entry);
                if (name.Length < 32 || !Guid.TryParseExact(name[..32], "N", out var jobId))
                {
                    yield return $"{top}/{name} belongs to no job";
                    continue;
                }
                var job = await FindJobAsync(jobId);
                var status = job?.GetProperty("status").GetString();
                var stage = job?.GetProperty("stage").GetString();
                var why = (top, status, stage) switch
                {
                    (_, null, _) => "its job does not exist",
                    (_, "cancelled", _) => "its job was cancelled",
                    ("uploads", "failed", "uploading") => "its job failed during the upload",
                    ("work", "completed", _) => "its job completed",
                    _ => null,
                };
                if (why is not null) yield return $"{top}/{name} is left behind: {why} ({Contents(entry)})";
            }
        }
    }
}

/// <summary>A tenant of the suite: its HttpClient (streams, JSON) and a hostile client sending with its key.</summary>
public sealed record Tenant(HttpClient Http, HostileClient Client);
