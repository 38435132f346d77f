using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Vidline.EndToEnd.Tests;

/// <summary>
/// Output links through the real nginx edge: the gateway signs, nginx's secure_link checks. A signed link serves
/// the job's files (also by the relative URLs a player follows); a tampered, expired or unsigned one, or one that
/// tries to leave the job's folder, serves nothing.
/// </summary>
public partial class OutputLinkTests(Pipeline pipeline) : IClassFixture<Pipeline>
{
    [Fact]
    public async Task Outputs_are_served_only_by_a_signed_unexpired_link_and_never_outside_their_job()
    {
        var jobId = await pipeline.SubmitAsync(await pipeline.Clips.ClipAsync("linked", 640, 360));
        var result = (await pipeline.WaitForStatusAsync(jobId, "completed")).GetProperty("result");
        var job = jobId.ToString("N");
        Assert.DoesNotContain($"\"/outputs/{job}/", result.GetRawText());

        var master = result.GetProperty("hls_manifest_url").GetString()!;
        var link = SignedLink().Match(master);
        Assert.True(link.Success, master);
        Assert.Equal(job, link.Groups["job"].Value);
        var expires = long.Parse(link.Groups["expires"].Value);
        Assert.InRange(DateTimeOffset.FromUnixTimeSeconds(expires), DateTimeOffset.UtcNow.AddHours(3), DateTimeOffset.UtcNow.AddHours(5));
        // The gateway's signature is nginx's secure_link_md5 "$secure_link_expires$job $secret", computed here on its own.
        Assert.Equal(Signature(expires, job), link.Groups["signature"].Value);

        // Signed: the manifests, and what a player fetches relative to the master playlist, under the same prefix.
        var playlist = await ExpectServedAsync(master, "application/vnd.apple.mpegurl");
        var variant = new Uri(new Uri($"http://edge{master}"), playlist.Split('\n').First(l => l.Length > 0 && !l.StartsWith('#'))).AbsolutePath;
        var media = await ExpectServedAsync(variant, "application/vnd.apple.mpegurl");
        var segment = new Uri(new Uri($"http://edge{variant}"), media.Split('\n').First(l => l.Length > 0 && !l.StartsWith('#'))).AbsolutePath;
        await ExpectServedAsync(segment, null);
        await ExpectServedAsync(result.GetProperty("dash_manifest_url").GetString()!, "application/dash+xml");

        // Another job's files and a file outside outputs/, which nothing below may reach.
        var other = Guid.NewGuid().ToString("N");
        Directory.CreateDirectory(Path.Combine(pipeline.StorageRoot, "outputs", other));
        const string secret = "not-for-this-link";
        await File.WriteAllTextAsync(Path.Combine(pipeline.StorageRoot, "outputs", other, "master.m3u8"), secret);
        await File.WriteAllTextAsync(Path.Combine(pipeline.StorageRoot, "private.m3u8"), secret);

        var file = link.Groups["file"].Value;
        // The first character: the last of 22 carries only 2 of the digest's bits, and decoders ignore the other 4.
        var tampered = (Signature(expires, job)[0] == 'A' ? "B" : "A") + Signature(expires, job)[1..];
        var past = DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeSeconds();
        var prefix = $"/outputs/{expires}/{Signature(expires, job)}/{job}";
        var refused = new (string Path, HttpStatusCode Status)[]
        {
            ($"/outputs/{expires}/{tampered}/{job}/{file}", HttpStatusCode.Forbidden),
            ($"/outputs/{expires + 60}/{Signature(expires, job)}/{job}/{file}", HttpStatusCode.Forbidden), // a later expiry, same signature
            ($"/outputs/{expires}/{Signature(expires, job)}/{other}/master.m3u8", HttpStatusCode.Forbidden), // this job's signature, another job
            ($"/outputs/{past}/{Signature(past, job)}/{job}/{file}", HttpStatusCode.Gone), // correctly signed, expired
            ($"/outputs/{job}/{file}", HttpStatusCode.NotFound), // unsigned, as outputs were served before
            ($"/outputs/{other}/master.m3u8", HttpStatusCode.NotFound),
        };
        foreach (var (path, status) in refused)
        {
            var response = await pipeline.Edge.GetAsync(path);
            Assert.True(response.StatusCode == status, $"{path}: {(int)response.StatusCode}, expected {(int)status}");
            Assert.DoesNotContain(secret, await response.Content.ReadAsStringAsync());
        }

        // Traversal, sent byte for byte (HttpClient would otherwise resolve the dots itself).
        foreach (var path in new[]
                 {
                     $"{prefix}/../{other}/master.m3u8",
                     $"{prefix}/..%2F{other}/master.m3u8",
                     $"{prefix}/%2e%2e/{other}/master.m3u8",
                     $"{prefix}/%2e%2e/%2e%2e/%2e%2e/%2e%2e/private.m3u8",
                     $"{prefix}/..%2f..%2f..%2f..%2fprivate.m3u8",
                     $"{prefix}/.%2e/.%2e/.%2e/.%2e/private.m3u8",
                     $"{prefix}/%252e%252e/%252e%252e/%252e%252e/%252e%252e/private.m3u8",
                     $"{prefix}/..\\..\\..\\..\\private.m3u8",
                     $"{prefix}/.hidden",
                 })
        {
            var response = await pipeline.Edge.GetAsync(new Uri($"http://127.0.0.1:{pipeline.EdgePort}{path}",
                new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true }));
            Assert.True(response.StatusCode != HttpStatusCode.OK, $"{path}: 200");
            Assert.DoesNotContain(secret, await response.Content.ReadAsStringAsync());
        }
    }

    private async Task<string> ExpectServedAsync(string path, string? contentType)
    {
        var response = await pipeline.Edge.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {body}");
        if (contentType is not null) Assert.Equal(contentType, response.Content.Headers.ContentType?.MediaType);
        // Same-origin only: no CORS grant to every site.
        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"), path);
        return body;
    }

    private string Signature(long expires, string job) =>
        Convert.ToBase64String(MD5.HashData(Encoding.UTF8.GetBytes($"{expires}{job} {pipeline.OutputSigningSecret}")))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');

    [GeneratedRegex("^/outputs/(?<expires>[0-9]+)/(?<signature>[A-Za-z0-9_-]{22})/(?<job>[0-9a-f]{32})/(?<file>.+)$")]
    private static partial Regex SignedLink();
}
