using System.Text.Json;

namespace Vidline.EndToEnd.Tests;

/// <summary>
/// What a hostile request may get back: a clear refusal (4xx application/problem+json that gives nothing of the server
/// away), and when the refusal names a job, that job failed and says why.
/// </summary>
public static class ProblemAnswer
{
    /// <summary>A refusal is a few hundred bytes: one that echoes a megabyte of input is no clear answer.</summary>
    private const int MaxBytes = 8 * 1024;

    /// <summary>Signs of an unhandled exception or of the server's internals.</summary>
    private static readonly string[] Leaks = ["   at ", "Exception", "System.", "Microsoft.", "Npgsql", "MassTransit", "/usr/lib", "/usr/share", "/root/", "/home/"];

    /// <param name="upload">The refusal answers an upload: a job it names is one the upload created, so it must have failed.</param>
    public static async Task<JsonElement> AssertRefusedAsync(HostileWorld world, Answer answer, bool upload, params int[] statuses)
    {
        var problem = AssertProblem(world.Pipeline, answer, statuses);
        if (problem.TryGetProperty("job_id", out var jobId) && upload)
        {
            var job = await world.WaitForFinalAsync(jobId.GetGuid());
            Assert.True(job.GetProperty("status").GetString() == "failed", $"the refusal names job {jobId}, which did not fail: {job}");
            var error = job.GetProperty("error_message").GetString();
            Assert.False(string.IsNullOrWhiteSpace(error), $"job {jobId} failed without saying why: {job}");
            AssertNothingLeaks(world.Pipeline, error!, "the failed job's error");
        }
        return problem;
    }

    /// <summary>A 4xx problem+json (of one of <paramref name="statuses"/>, when given) whose body leaks nothing.</summary>
    public static JsonElement AssertProblem(Pipeline pipeline, Answer answer, params int[] statuses)
    {
        Assert.True(answer.Status is >= 400 and < 500, $"expected a 4xx refusal, got: {answer}");
        if (statuses.Length > 0) Assert.True(statuses.Contains(answer.Status), $"expected {string.Join(" or ", statuses)}, got: {answer}");
        Assert.True(answer.MediaType == "application/problem+json", $"expected application/problem+json, got: {answer}");
        Assert.True(answer.Body.Length <= MaxBytes, $"the refusal is {answer.Body.Length} bytes long: {answer}");
        AssertNothingLeaks(pipeline, answer.Body, "the refusal");
        var problem = JsonDocument.Parse(answer.Body).RootElement;
        Assert.True(problem.TryGetProperty("title", out var title) && !string.IsNullOrWhiteSpace(title.GetString()), $"the problem has no title: {answer}");
        if (problem.TryGetProperty("status", out var status)) Assert.Equal(answer.Status, status.GetInt32());
        return problem;
    }

    public static void AssertNothingLeaks(Pipeline pipeline, string text, string what)
    {
        foreach (var leak in Leaks.Append(pipeline.StateDirectory).Append(pipeline.RepoRoot))
            Assert.False(text.Contains(leak, StringComparison.Ordinal), $"{what} gives away '{leak}': {text[..Math.Min(text.Length, 600)]}");
    }

    /// <summary>A 429 problem that says when to come back.</summary>
    public static bool IsTooMany(Answer answer) =>
        answer is { Status: 429, MediaType: "application/problem+json" } && answer.Headers.ContainsKey("retry-after");
}
