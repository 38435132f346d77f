using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;

namespace Vidline.EndToEnd.Tests;

/// <summary>More processes of a stage: how scripts/services.sh names and places them (no processes started).</summary>
public class ScaledNodesTests
{
    [Fact]
    public async Task Scale_variables_start_more_nodes_of_a_stage_on_ports_a_hundred_apart()
    {
        var (exit, output) = await ServicesScriptAsync("metrics", ("TRANSCODERS", "3"), ("VALIDATORS", "2"));

        Assert.Equal(0, exit);
        var nodes = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();
        var manifest = ServiceManifest.Read(Pipeline.FindRepoRoot());
        int Port(string service) => manifest.Services.Single(s => s.Name == service).Port;
        Assert.Equal(manifest.Services.Count + 3, nodes.Count);
        foreach (var (node, port) in new[]
                 {
                     ("transcoder", Port("transcoder")), ("transcoder-2", Port("transcoder") + 100), ("transcoder-3", Port("transcoder") + 200),
                     ("validator", Port("validator")), ("validator-2", Port("validator") + 100), ("packager", Port("packager")),
                 })
            Assert.Contains(nodes, n => n[0] == node && n[1] == $"http://127.0.0.1:{port}/metrics");
    }

    [Fact]
    public async Task A_scale_that_is_not_a_number_is_refused_with_the_variable_named()
    {
        var (exit, output) = await ServicesScriptAsync("metrics", ("TRANSCODERS", "three"));

        Assert.NotEqual(0, exit);
        Assert.Contains("TRANSCODERS=three", output);
    }

    private static async Task<(int Exit, string Output)> ServicesScriptAsync(string command, params (string Name, string Value)[] environment)
    {
        var root = Pipeline.FindRepoRoot();
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(Path.Combine(root, "scripts", "services.sh"));
        info.ArgumentList.Add(command);
        info.Environment["VIDLINE_STATE"] = Directory.CreateTempSubdirectory("vidline-scale-").FullName;
        foreach (var (name, value) in environment) info.Environment[name] = value;
        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Directory.Delete(info.Environment["VIDLINE_STATE"]!, recursive: true);
        return (process.ExitCode, output);
    }
}

/// <summary>Two transcoders: each job's progress names the node doing it, and /progress/stats shows who runs what.</summary>
public class ScalingTests(Pipeline pipeline) : IClassFixture<Pipeline>
{
    [Fact]
    public async Task Progress_events_and_progress_stats_name_the_node_that_runs_each_job()
    {
        await pipeline.StartAnotherAsync("transcoder"); // node "transcoder-2"
        var jobs = new List<Guid>();
        for (var i = 0; i < 2; i++) jobs.Add(await pipeline.SubmitAsync(await pipeline.Clips.ClipAsync($"scaled-{i}", 1280, 720, seconds: 10)));

        // While they transcode, the stats (any gateway instance) list each job with its node.
        var seen = new Dictionary<Guid, string>();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (seen.Count < jobs.Count && DateTime.UtcNow < deadline)
        {
            var stats = await pipeline.Edge.GetFromJsonAsync<JsonElement>("/progress/stats");
            foreach (var running in stats.GetProperty("running").EnumerateArray())
                if (running.GetProperty("stage").GetString() == "transcoding" && running.GetProperty("node").GetString() is { } node)
                    seen[running.GetProperty("job_id").GetGuid()] = node;
            await Task.Delay(200);
        }
        Assert.True(seen.Count == jobs.Count, $"running jobs seen: {string.Join(", ", seen)}\n{pipeline.Logs()}");
        Assert.Equal(["transcoder", "transcoder-2"], seen.Values.Order()); // competing consumers: one job each

        foreach (var jobId in jobs)
        {
            var history = await pipeline.StreamAsync(jobId, lastEventId: "0");
            var transcoding = history.Where(e => e.Type == "progress" && e.Json.GetProperty("stage").GetString() == "transcoding").ToList();
            Assert.NotEmpty(transcoding);
            Assert.All(transcoding, e => Assert.Equal(seen[jobId], e.Json.GetProperty("node").GetString()));
        }
    }
}
