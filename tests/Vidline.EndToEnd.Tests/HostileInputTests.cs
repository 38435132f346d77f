using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Xunit.Abstractions;

namespace Vidline.EndToEnd.Tests;

/// <summary>
/// Issue 11's hostile user, through the real edge: every case gets a clear 4xx problem+json that gives nothing away
/// (or a job that failed and says why), and after each one the services are healthy, no message went to an `_error`
/// queue, no file is left for a job that has no use for it, and every 202 names a job that exists.
/// </summary>
public class HostileInputTests(HostileWorld world, ITestOutputHelper output) : IClassFixture<HostileWorld>, IAsyncLifetime
{
    private const int Megabyte = 1 << 20;
    private static readonly string Huge = new('a', 64 * 1024);
    private static readonly string Marker = "hostile-escape";

    /// <summary>What a case may get back.</summary>
    public enum Verdict
    {
        /// <summary>A 4xx problem (of the listed statuses, if any); a refusal that names a job means that job failed, saying why.</summary>
        Refused,

        /// <summary>Harmless as data (a key that looks like a path): refused, or accepted as a job that exists and wrote nothing outside storage.</summary>
        RefusedOrAccepted,

        /// <summary>A stream of a finished job: refused, or it ends, with `done`.</summary>
        RefusedOrEndsWithDone,

        /// <summary>A live stream: refused, or it opens as an event stream.</summary>
        RefusedOrStreams,
    }

    public sealed record HostileCase(Func<HostileWorld, HostileRequest> Request, Verdict Verdict, params int[] Statuses);

    private static HostileCase Refused(Func<HostileWorld, HostileRequest> request, params int[] statuses) => new(request, Verdict.Refused, statuses);

    private static HostileCase Harmless(Func<HostileWorld, HostileRequest> request) => new(request, Verdict.RefusedOrAccepted);

    // ---- the one place the hostile requests are built

    /// <summary>An upload of the small clip with the fields before the video, as clients should send them.</summary>
    private static HostileRequest UploadWith(HostileWorld w, params FormPart[] fields) => HostileRequest.Upload(HostileForm.Of([.. fields, FormPart.Video(w.Clip)]));

    private static HostileRequest UploadNamed(HostileWorld w, string fileName) => HostileRequest.Upload(HostileForm.Of(FormPart.Video(w.Clip, fileName)));

    private static HostileRequest UploadFile(byte[] content, string fileName = "clip.mp4") => HostileRequest.Upload(HostileForm.Of(FormPart.Video(content, fileName)));

    private static HostileRequest UploadKeyed(HostileWorld w, string idempotencyKey) =>
        HostileRequest.Upload(HostileForm.Of(FormPart.Video(w.Clip)), ("Idempotency-Key", idempotencyKey));

    private static HostileRequest StreamOf(Guid jobId, string lastEventId) =>
        HostileRequest.Get($"/jobs/{jobId}/stream", ("Accept", "text/event-stream"), ("Last-Event-ID", lastEventId));

    private static HostileRequest Live(string target) => HostileRequest.Get(target, ("Accept", "text/event-stream")) with { HeadersOnly = true };

    private static string Ids(int count) => string.Join(',', Enumerable.Range(0, count).Select(_ => Guid.NewGuid()));

    private static string Cursor(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static readonly Dictionary<string, HostileCase> Cases = new()
    {
        // Form fields: control characters, paths and megabytes in key, priority, the file's name and Idempotency-Key.
        ["key: NUL"] = Refused(w => UploadWith(w, FormPart.Field("key", "clip\0.mp4")), 400),
        ["key: CR LF"] = Refused(w => UploadWith(w, FormPart.Field("key", "clip\r\nSet-Cookie: x=1")), 400),
        ["key: ESC"] = Refused(w => UploadWith(w, FormPart.Field("key", "\u001b[31mred\u001b[0m")), 400),
        ["key: 1 MB"] = Refused(w => UploadWith(w, FormPart.Field("key", new string('k', Megabyte))), 400, 413),
        ["key: not UTF-8"] = Refused(w => UploadWith(w, new FormPart("key", [0xC3, 0x28, 0xFF])), 400),
        ["key: ../ traversal"] = Harmless(w => UploadWith(w, FormPart.Field("key", $"../../../../{Marker}.mp4"))),
        ["key: %2e%2e%2f traversal"] = Harmless(w => UploadWith(w, FormPart.Field("key", $"%2e%2e%2f%2e%2e%2f{Marker}.mp4"))),
        ["priority: NUL"] = Refused(w => UploadWith(w, FormPart.Field("priority", "1\0")), 400),
        ["priority: 1 MB"] = Refused(w => UploadWith(w, FormPart.Field("priority", new string('9', Megabyte))), 400, 413),
        ["priority: out of range"] = Refused(w => UploadWith(w, FormPart.Field("priority", "10")), 400),
        ["priority: negative"] = Refused(w => UploadWith(w, FormPart.Field("priority", "-1")), 400),
        ["priority: not a number"] = Refused(w => UploadWith(w, FormPart.Field("priority", "1e3")), 400),
        ["file name: ../ traversal"] = Harmless(w => UploadNamed(w, $"../../../../{Marker}.mp4")),
        ["file name: encoded slashes"] = Harmless(w => UploadNamed(w, $"..%2F..%2F..%2F{Marker}.mp4")),
        ["file name: backslashes"] = Harmless(w => UploadNamed(w, $"..\\..\\..\\{Marker}.mp4")),
        ["file name: NUL and ESC"] = Harmless(w => UploadNamed(w, "clip\0\u001b[2J.mp4")),
        ["file name: 1 MB"] = Refused(w => UploadNamed(w, new string('f', Megabyte) + ".mp4"), 400, 413),
        ["Idempotency-Key: NUL"] = Refused(w => UploadKeyed(w, "key\0x"), 400),
        ["Idempotency-Key: CR LF (folded line)"] = Refused(w => UploadKeyed(w, "key\r\n\tfolded"), 400),
        ["Idempotency-Key: ESC"] = Refused(w => UploadKeyed(w, "key\u001b[2J"), 400),
        ["Idempotency-Key: 201 characters"] = Refused(w => UploadKeyed(w, new string('i', 201)), 400),
        ["Idempotency-Key: 10 KB"] = Refused(w => UploadKeyed(w, new string('i', 10 * 1024)), 400, 431),
        ["Idempotency-Key: 1 MB"] = Refused(w => UploadKeyed(w, new string('i', Megabyte)), 400, 431),
        ["Idempotency-Key: ../ traversal"] = Harmless(w => UploadKeyed(w, $"../../../{Marker}-{Guid.NewGuid():N}")),

        // Multipart parts: wrong, missing, duplicated, truncated; boundaries.
        ["multipart: no video part"] = Refused(_ => HostileRequest.Upload(HostileForm.Of(FormPart.Field("key", "k"))), 400),
        ["multipart: video under another name"] = Refused(w => HostileRequest.Upload(HostileForm.Of(new FormPart("file", w.Clip, "clip.mp4"))), 400),
        ["multipart: video without a file name"] = Refused(w => HostileRequest.Upload(HostileForm.Of(new FormPart("video", w.Clip))), 400),
        ["multipart: part without Content-Disposition"] = Refused(w => HostileRequest.Upload(HostileForm.Of(
            new FormPart("video", w.Clip) { Headers = "Content-Type: video/mp4\r\n" })), 400),
        ["multipart: NUL in a part's name"] = Refused(w => HostileRequest.Upload(HostileForm.Of(new FormPart("vid\0eo", w.Clip, "clip.mp4"))), 400),
        ["multipart: two video parts"] = Refused(w => HostileRequest.Upload(HostileForm.Of(FormPart.Video(w.Clip), FormPart.Video(w.Clip, "second.mp4"))), 400),
        ["multipart: two key parts"] = Refused(w => UploadWith(w, FormPart.Field("key", "first"), FormPart.Field("key", "second")), 400),
        ["multipart: two priority parts"] = Refused(w => UploadWith(w, FormPart.Field("priority", "1"), FormPart.Field("priority", "9")), 400),
        ["multipart: truncated in the video"] = Refused(w => HostileRequest.Upload(HostileForm.Of(FormPart.Video(w.Clip)).CutAt(0.5)), 400),
        ["multipart: truncated in a part's headers"] = Refused(w => HostileRequest.Upload(HostileForm.Of(FormPart.Video(w.Clip)).CutTo(60)), 400),
        ["multipart: no closing boundary"] = Refused(w =>
        {
            var form = HostileForm.Of(FormPart.Video(w.Clip));
            return HostileRequest.Upload(form.CutTo(form.Bytes.Length - $"--{form.Boundary}--\r\n".Length));
        }, 400),
        ["multipart: 5,000-character boundary"] = Refused(w => HostileRequest.Upload(HostileForm.WithBoundary(new string('b', 5000), FormPart.Video(w.Clip))), 400),
        ["multipart: no boundary"] = Refused(w => HostileRequest.Upload("multipart/form-data", HostileForm.Of(FormPart.Video(w.Clip)).Bytes), 400),
        ["multipart: another boundary than announced"] = Refused(w => HostileRequest.Upload(HostileForm.Of(FormPart.Video(w.Clip)).Announcing("other-boundary")), 400),
        ["multipart: empty body"] = Refused(_ => HostileRequest.Upload("multipart/form-data; boundary=x", []), 400),

        // Bodies that are not multipart.
        ["body: JSON"] = Refused(_ => HostileRequest.Upload("application/json", """{"video":"clip.mp4"}"""u8.ToArray()), 415),
        ["body: urlencoded"] = Refused(_ => HostileRequest.Upload("application/x-www-form-urlencoded", "video=clip.mp4&key=k"u8.ToArray()), 415),
        ["body: empty, no Content-Type"] = Refused(_ => HostileRequest.Upload("", []), 415),
        ["body: the raw video"] = Refused(w => HostileRequest.Upload("video/mp4", w.Clip), 415),

        // 64 KB headers and URLs.
        ["64 KB header on POST /process"] = Refused(w => HostileRequest.Upload(HostileForm.Of(FormPart.Video(w.Clip)), ("X-Filler", Huge)), 400, 431),
        ["64 KB header on GET /jobs"] = Refused(_ => HostileRequest.Get("/jobs", ("X-Filler", Huge)), 400, 431),
        ["64 KB Cookie on GET /progress/stream"] = Refused(_ => Live("/progress/stream") with { Headers = [("Cookie", "c=" + Huge)] }, 400, 431),
        ["64 KB Authorization on GET /jobs"] = Refused(_ => HostileRequest.Get("/jobs", ("Authorization", "Bearer " + Huge)), 400, 401, 431),
        ["64 KB URL"] = Refused(_ => HostileRequest.Get("/jobs?cursor=" + Huge), 400, 414),

        // Files that are not video: the upload is refused with ffprobe's reason, and its job failed with it.
        ["file: text"] = Refused(w => UploadFile(w.Text), 422),
        ["file: PNG image"] = Refused(w => UploadFile(w.Image, "image.png"), 422),
        ["file: audio only"] = Refused(w => UploadFile(w.AudioOnly), 422),
        ["file: 1 MB of zeros"] = Refused(w => UploadFile(w.Zeros), 422),
        ["file: truncated MP4"] = Refused(w => UploadFile(w.TruncatedMp4), 422),
        ["file: empty"] = Refused(w => UploadFile(w.Empty), 422),

        // Malformed ids, cursors, limits and statuses on every GET (and the job commands).
        ["id: not a UUID"] = Refused(_ => HostileRequest.Get("/jobs/not-a-uuid"), 400),
        ["id: %00"] = Refused(_ => HostileRequest.Get("/jobs/%00"), 400),
        // Guid.TryParse trims white space: this is that (unknown) UUID, and 404 is as clear as 400.
        ["id: CR LF after a UUID"] = Refused(_ => HostileRequest.Get($"/jobs/{Guid.NewGuid()}%0d%0a"), 400, 404),
        ["id: encoded traversal"] = Refused(_ => HostileRequest.Get("/jobs/%2e%2e%2f%2e%2e%2fetc%2fpasswd"), 400, 404),
        ["id: raw traversal"] = Refused(_ => HostileRequest.Get("/jobs/../../etc/passwd"), 400, 404),
        ["id: 1 MB"] = Refused(_ => HostileRequest.Get("/jobs/" + new string('1', Megabyte)), 400, 414),
        ["id: unknown"] = Refused(_ => HostileRequest.Get($"/jobs/{Guid.NewGuid()}"), 404),
        ["stream id: not a UUID"] = Refused(_ => Live("/jobs/not-a-uuid/stream"), 400),
        ["stream id: unknown"] = Refused(_ => Live($"/jobs/{Guid.NewGuid()}/stream"), 404),
        ["cancel id: not a UUID"] = Refused(_ => HostileRequest.Post("/jobs/not-a-uuid/cancel"), 400),
        ["retry id: encoded traversal"] = Refused(_ => HostileRequest.Post("/jobs/%2e%2e/retry"), 400, 404),
        ["limit: -1"] = Refused(_ => HostileRequest.Get("/jobs?limit=-1"), 400),
        ["limit: 0"] = Refused(_ => HostileRequest.Get("/jobs?limit=0"), 400),
        ["limit: 201"] = Refused(_ => HostileRequest.Get("/jobs?limit=201"), 400),
        ["limit: not a number"] = Refused(_ => HostileRequest.Get("/jobs?limit=ten"), 400),
        ["limit: beyond a 64-bit integer"] = Refused(_ => HostileRequest.Get("/jobs?limit=99999999999999999999999"), 400),
        ["cursor: garbage"] = Refused(_ => HostileRequest.Get("/jobs?cursor=garbage!"), 400),
        ["cursor: %00"] = Refused(_ => HostileRequest.Get("/jobs?cursor=%00"), 400),
        ["cursor: well-formed, negative time"] = Refused(_ => HostileRequest.Get("/jobs?cursor=" + Cursor($"-1:{Guid.NewGuid():N}")), 400),
        ["status: unknown"] = Refused(_ => HostileRequest.Get("/jobs?status=%00"), 400),
        ["all-jobs stream: unknown status"] = Refused(_ => Live("/progress/stream?status=bogus"), 400),
        ["all-jobs stream: ids that are not UUIDs"] = Refused(_ => Live("/progress/stream?jobs=a,b,..%2f"), 400),
        ["all-jobs stream: 100 ids"] = new(_ => Live("/progress/stream?jobs=" + Ids(100)), Verdict.RefusedOrStreams),
        ["all-jobs stream: 500 ids"] = new(_ => Live("/progress/stream?jobs=" + Ids(500)), Verdict.RefusedOrStreams, 400, 414),

        // Last-Event-ID on a finished job's stream: one no stream sent is refused; one beyond the newest is well-formed,
        // and the stream ends with `done`.
        ["Last-Event-ID: not a number"] = Refused(w => StreamOf(w.CompletedJob, "abc"), 400),
        ["Last-Event-ID: negative"] = Refused(w => StreamOf(w.CompletedJob, "-5"), 400),
        ["Last-Event-ID: beyond 64 bits"] = Refused(w => StreamOf(w.CompletedJob, "99999999999999999999999"), 400),
        ["Last-Event-ID: beyond the newest"] = new(w => StreamOf(w.CompletedJob, long.MaxValue.ToString()), Verdict.RefusedOrEndsWithDone, 400),
        ["Last-Event-ID: NUL"] = Refused(w => StreamOf(w.CompletedJob, "1\0"), 400),
        ["lastEventId query: not a number"] = Refused(w => HostileRequest.Get($"/jobs/{w.CompletedJob}/stream?lastEventId=abc"), 400),
        ["lastEventId query: beyond the newest"] = new(w => HostileRequest.Get($"/jobs/{w.CompletedJob}/stream?lastEventId={long.MaxValue}"), Verdict.RefusedOrEndsWithDone, 400),

        // Commands on jobs the caller may not touch.
        ["cancel: unknown job"] = Refused(_ => HostileRequest.Post($"/jobs/{Guid.NewGuid()}/cancel"), 404),
        ["retry: unknown job"] = Refused(_ => HostileRequest.Post($"/jobs/{Guid.NewGuid()}/retry"), 404),
        ["cancel: finished job"] = Refused(w => HostileRequest.Post($"/jobs/{w.CompletedJob}/cancel"), 409),
        ["retry: finished job"] = Refused(w => HostileRequest.Post($"/jobs/{w.CompletedJob}/retry"), 409),
        ["cancel: another tenant's job"] = Refused(w => HostileRequest.Post($"/jobs/{w.ForeignJob}/cancel"), 404),
        ["retry: another tenant's job"] = Refused(w => HostileRequest.Post($"/jobs/{w.ForeignJob}/retry"), 404),
        ["get: another tenant's job"] = Refused(w => HostileRequest.Get($"/jobs/{w.ForeignJob}"), 404),
        ["stream: another tenant's job"] = Refused(w => StreamOf(w.ForeignJob, "0"), 404),

        // /outputs: a secret file sits beside the storage folder; no spelling of a path reaches it.
        ["outputs: ../"] = Refused(_ => HostileRequest.Get("/outputs/../hostile-secret.txt")),
        ["outputs: ../../"] = Refused(_ => HostileRequest.Get("/outputs/../../hostile-secret.txt")),
        ["outputs: %2e%2e/"] = Refused(_ => HostileRequest.Get("/outputs/%2e%2e/%2e%2e/hostile-secret.txt")),
        ["outputs: ..%2f"] = Refused(_ => HostileRequest.Get("/outputs/..%2f..%2fhostile-secret.txt")),
        ["outputs: a job's folder, then ..%2f"] = Refused(w => HostileRequest.Get($"/outputs/{w.CompletedJob:N}/..%2f..%2f..%2fhostile-secret.txt")),
        ["outputs: %00"] = Refused(_ => HostileRequest.Get("/outputs/%00")),
        ["outputs: the folder listing"] = Refused(_ => HostileRequest.Get("/outputs/")),
        ["outputs: a job's folder listing"] = Refused(w => HostileRequest.Get($"/outputs/{w.CompletedJob:N}/")),
        ["outputs: a playlist without a signature"] = Refused(w => HostileRequest.Get($"/outputs/{w.CompletedJob:N}/{w.CompletedPlaylist.Split('/')[^1]}")),
    };

    public static TheoryData<string> CaseNames() => new(Cases.Keys);

    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>Whatever the case did, the system must have come through it.</summary>
    public Task DisposeAsync() => world.AssertUnharmedAsync();

    [Theory]
    [MemberData(nameof(CaseNames))]
    public async Task Hostile_input_gets_a_clear_answer(string name)
    {
        var hostile = Cases[name];
        var request = hostile.Request(world);
        var answer = await world.Client.SendAsync(request);
        output.WriteLine($"answer: {answer}"); // the suite's results, case by case, for docs/security.md

        Assert.DoesNotContain(world.Secret, answer.Body);
        switch (hostile.Verdict)
        {
            case Verdict.RefusedOrAccepted when answer.Status == 202:
                await AssertAcceptedHarmlesslyAsync(answer);
                break;
            case Verdict.RefusedOrEndsWithDone when answer.Status == 200:
                Assert.True(answer.Ended && answer.MediaType == "text/event-stream", $"the stream did not end: {answer}");
                var events = await SseEvent.ReadAllAsync(new MemoryStream(Encoding.UTF8.GetBytes(answer.Body)), [], CancellationToken.None);
                Assert.True(events.Count > 0 && events[^1].Type == "done", $"the stream ended without `done`: {answer}");
                break;
            case Verdict.RefusedOrStreams when answer.Status == 200:
                Assert.Equal("text/event-stream", answer.MediaType);
                break;
            default:
                await ProblemAnswer.AssertRefusedAsync(world, answer, request.Target == "/process", hostile.Statuses);
                break;
        }
    }

    /// <summary>A path in a name is just text: the job exists, its name has no control characters, and nothing was written outside storage.</summary>
    private async Task AssertAcceptedHarmlesslyAsync(Answer answer)
    {
        var job = await world.FindJobAsync(HostileWorld.JobIdOf(answer));
        Assert.True(job is not null, $"202 for a job that does not exist: {answer}");
        Assert.DoesNotContain(job.Value.GetProperty("key").GetString()!, char.IsControl);
        var escaped = Directory.EnumerateFiles(world.Pipeline.StateDirectory, $"*{Marker}*", SearchOption.AllDirectories)
            .Concat(Directory.EnumerateFiles(Path.GetTempPath(), $"*{Marker}*"))
            .Where(path => !path.StartsWith(world.Pipeline.StorageRoot + Path.DirectorySeparatorChar));
        Assert.Empty(escaped);
        await world.WaitForFinalAsync(job.Value.GetProperty("id").GetGuid()); // its files are looked at once it is done
    }

    [Fact]
    public async Task Another_tenants_job_is_answered_like_one_that_does_not_exist()
    {
        var unknown = await world.Client.SendAsync(HostileRequest.Post($"/jobs/{Guid.NewGuid()}/cancel"));
        var foreign = await world.Client.SendAsync(HostileRequest.Post($"/jobs/{world.ForeignJob}/cancel"));

        var unknownProblem = ProblemAnswer.AssertProblem(world.Pipeline, unknown, 404);
        var foreignProblem = ProblemAnswer.AssertProblem(world.Pipeline, foreign, 404);
        Assert.Equal(unknownProblem.GetProperty("title").GetString(), foreignProblem.GetProperty("title").GetString());
        Assert.Equal(unknownProblem.EnumerateObject().Select(p => p.Name).Order(), foreignProblem.EnumerateObject().Select(p => p.Name).Order());
        var list = await world.Client.SendAsync(HostileRequest.Get("/jobs?limit=200"));
        Assert.DoesNotContain(world.ForeignJob.ToString(), list.Body);
        Assert.Equal("completed", (await world.WaitForFinalAsync(world.ForeignJob)).GetProperty("status").GetString()); // untouched
    }

    /// <summary>More streams than any one client is allowed: the excess gets 429, never a reset or a 5xx, and others are still served.</summary>
    [Fact]
    public async Task An_sse_flood_from_one_client_gets_429_for_the_excess_while_others_are_served()
    {
        const int flood = 600; // the issue's count: beyond one client's share of the edge and of a tenant's streams
        var flooder = (await world.NewTenantAsync("hostile-flood")).Http;
        var opened = new List<HttpResponseMessage>();
        try
        {
            var answers = await Task.WhenAll(Enumerable.Range(0, flood).Select(async _ =>
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, "/progress/stream");
                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
                try
                {
                    var response = await flooder.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
                    lock (opened) opened.Add(response);
                    return response.StatusCode == HttpStatusCode.OK && response.Content.Headers.ContentType?.MediaType == "text/event-stream"
                        ? null
                        : await AnswerOf(response);
                }
                catch (HttpRequestException e)
                {
                    return new Answer(0, new Dictionary<string, string>(), $"connection failed: {e.Message}", Ended: true);
                }
            }));

            var refusals = answers.OfType<Answer>().ToList();
            // Another client: another tenant, from another address (the edge's limits are per address).
            var bystander = world.Other.Client.From(IPAddress.Parse("127.0.0.2"));
            var others = await bystander.SendAsync(HostileRequest.Get("/jobs"));
            var otherStream = await bystander.SendAsync(Live("/progress/stream"));

            Assert.True(refusals.Count > 0, $"all {flood} streams of one client were let in");
            Assert.True(refusals.All(ProblemAnswer.IsTooMany), $"{refusals.Count} of {flood} streams were refused, not all with 429:\n" +
                $"{string.Join("\n", refusals.GroupBy(r => r.ToString()).Select(g => $"{g.Count()} x {g.Key}"))}\nedge: {world.EdgeLog()}");
            Assert.All(refusals, refusal => ProblemAnswer.AssertProblem(world.Pipeline, refusal, 429));
            Assert.True(others.Status == 200 && others.MediaType == "application/json", $"GET /jobs of another tenant during the flood: {others}");
            Assert.True(otherStream.Status == 200 && otherStream.MediaType == "text/event-stream", $"a stream of another tenant during the flood: {otherStream}");
        }
        finally
        {
            foreach (var response in opened) response.Dispose();
            await world.WaitForStreamsClosedAsync();
        }
    }

    [Fact]
    public async Task Fifty_parallel_uploads_each_get_a_202_for_a_job_that_exists_or_a_429()
    {
        var client = (await world.NewTenantAsync("hostile-parallel")).Client;

        var answers = await Task.WhenAll(Enumerable.Range(0, 50).Select(i =>
            client.SendAsync(HostileRequest.Upload(HostileForm.Of(FormPart.Field("key", $"parallel-{i}"), FormPart.Video(world.Clip))))));

        var refusals = answers.Where(a => a.Status != 202).ToList();
        Assert.True(refusals.All(ProblemAnswer.IsTooMany), $"{refusals.Count} of 50 uploads were not accepted, not all with 429:\n" +
            $"{string.Join("\n", refusals.Take(5))}\nedge: {world.EdgeLog()}\n{world.Pipeline.Logs()}");
        Assert.All(refusals, refusal => ProblemAnswer.AssertProblem(world.Pipeline, refusal, 429));
        var accepted = answers.Where(a => a.Status == 202).Select(HostileWorld.JobIdOf).ToList();
        Assert.NotEmpty(accepted);
        // Cancelled at once, to keep the suite short: every one must end, and leave no file behind (checked after the test).
        foreach (var jobId in accepted)
        {
            var cancel = await client.SendAsync(HostileRequest.Post($"/jobs/{jobId}/cancel"));
            Assert.True(cancel.Status is 202 or 409, $"cancel of {jobId}: {cancel}");
        }
        foreach (var jobId in accepted)
            Assert.Contains((await world.WaitForFinalAsync(jobId)).GetProperty("status").GetString(), new[] { "cancelled", "completed" });
    }

    /// <summary>A client that stops mid-body for longer than the stall timeout (8 s here) and then goes on: its job is not given up meanwhile.</summary>
    [Fact]
    public async Task A_paused_upload_that_resumes_is_not_failed_behind_its_back()
    {
        var upload = UploadWith(world, FormPart.Field("key", "paused")) with { Pause = TimeSpan.FromSeconds(12) };
        var answer = await world.Client.SendAsync(upload with { PauseAt = upload.Body!.Length / 2 });

        if (answer.Status != 202)
        {
            await ProblemAnswer.AssertRefusedAsync(world, answer, upload: true);
            return;
        }
        Assert.Equal("completed", (await world.WaitForFinalAsync(HostileWorld.JobIdOf(answer))).GetProperty("status").GetString());
    }

    [Fact]
    public async Task An_upload_abandoned_mid_body_leaves_a_failed_job_that_says_so_and_no_file()
    {
        var key = $"abandoned-{Guid.NewGuid():N}";
        var upload = UploadWith(world, FormPart.Field("key", key)) with { Pause = TimeSpan.FromSeconds(1), HangUpAtPause = true };
        await world.Client.SendAsync(upload with { PauseAt = upload.Body!.Length / 2 });

        var job = await FindByKeyAsync(key);
        var final = await world.WaitForFinalAsync(job);
        Assert.Equal("failed", final.GetProperty("status").GetString());
        Assert.Contains("interrupted", final.GetProperty("error_message").GetString()!, StringComparison.OrdinalIgnoreCase);
    }

    private async Task<Guid> FindByKeyAsync(string key)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            var page = JsonDocument.Parse((await world.Client.SendAsync(HostileRequest.Get("/jobs?limit=200"))).Body).RootElement;
            foreach (var job in page.GetProperty("items").EnumerateArray())
                if (job.GetProperty("key").GetString() == key) return job.GetProperty("id").GetGuid();
            await Task.Delay(250);
        }
        throw new TimeoutException($"no job '{key}' showed up in /jobs");
    }

    private static async Task<Answer> AnswerOf(HttpResponseMessage response)
    {
        var headers = response.Headers.Concat(response.Content.Headers)
            .ToDictionary(h => h.Key.ToLowerInvariant(), h => string.Join(", ", h.Value));
        return new Answer((int)response.StatusCode, headers, await response.Content.ReadAsStringAsync(), Ended: true);
    }
}
