using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Vidline.ProgressGateway.Access;

namespace Vidline.ProgressGateway.Tests.Unit;

public class OutputLinksTests
{
    private const string Job = "0123456789abcdef0123456789abcdef";
    private static readonly Guid JobId = Guid.ParseExact(Job, "N");
    private const string OtherJob = "fedcba9876543210fedcba9876543210";
    private static readonly byte[] Secret = Encoding.UTF8.GetBytes("test-secret-test-secret-test-secret-0001");
    private readonly SettableClock _clock = new(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000));

    private OutputLinks Links(TimeSpan? lifetime = null) =>
        new(Secret, _clock, Options.Create(new OutputLinkOptions { UrlLifetime = lifetime ?? TimeSpan.FromMinutes(10) }));

    [Fact]
    public void The_signature_is_nginx_secure_link_md5_of_expires_job_space_secret()
    {
        // printf '%s' "17000000600123456789abcdef0123456789abcdef test-secret-test-secret-test-secret-0001" \
        //   | openssl md5 -binary | openssl base64 | tr +/ -_ | tr -d =     (the recipe in nginx's secure_link docs)
        Assert.Equal("IB4OK3xZxs9ramfi4dyKfQ", Links().Signature(1_700_000_060, Job));
    }

    [Fact]
    public void A_stored_output_path_becomes_a_signed_url_under_the_same_job_folder()
    {
        var signed = Links().Sign($"/outputs/{Job}/hls/master.m3u8", JobId);
        // 1,700,000,000 + 600 s, rounded up to the minute.
        Assert.Equal($"/outputs/1700000640/{Links().Signature(1_700_000_640, Job)}/{Job}/hls/master.m3u8", signed);
    }

    [Fact]
    public void Urls_read_within_the_same_minute_are_the_same()
    {
        var first = Links().Sign($"/outputs/{Job}/master.m3u8", JobId);
        _clock.Now = _clock.Now.AddSeconds(30);
        Assert.Equal(first, Links().Sign($"/outputs/{Job}/master.m3u8", JobId));
    }

    [Theory]
    [InlineData("https://example.com/outputs/x")]
    [InlineData("/outputs/not-a-job/master.m3u8")]
    [InlineData("/elsewhere/0123456789abcdef0123456789abcdef/master.m3u8")]
    [InlineData("/outputs/" + OtherJob + "/master.m3u8")] // another job's folder is never signed while reading this one
    public void Anything_not_a_stored_output_path_of_the_job_is_left_alone(string value) => Assert.Equal(value, Links().Sign(value, JobId));

    [Fact]
    public void Every_output_path_in_a_json_document_is_signed_and_nothing_else_changes()
    {
        var json = $$"""{"job_id":"x","result":{"hls_manifest_url":"/outputs/{{Job}}/master.m3u8","dash_manifest_url":"/outputs/{{Job}}/manifest.mpd","renditions":[{"name":"360p","url":"/outputs/{{Job}}/360p.mp4","height":360}]},"error_message":"/outputs/{{OtherJob}}/master.m3u8"}""";
        var signed = JsonDocument.Parse(Links().SignAll(json, JobId)).RootElement;
        var result = signed.GetProperty("result");
        var prefix = $"/outputs/1700000640/{Links().Signature(1_700_000_640, Job)}/{Job}/";
        Assert.Equal(prefix + "master.m3u8", result.GetProperty("hls_manifest_url").GetString());
        Assert.Equal(prefix + "manifest.mpd", result.GetProperty("dash_manifest_url").GetString());
        Assert.Equal(prefix + "360p.mp4", result.GetProperty("renditions")[0].GetProperty("url").GetString());
        Assert.Equal(360, result.GetProperty("renditions")[0].GetProperty("height").GetInt32());
        Assert.Equal("x", signed.GetProperty("job_id").GetString());
        Assert.Equal($"/outputs/{OtherJob}/master.m3u8", signed.GetProperty("error_message").GetString());
    }
}
