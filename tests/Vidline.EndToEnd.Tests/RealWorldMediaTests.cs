using System.Globalization;
using System.Net;
using System.Text.Json;

namespace Vidline.EndToEnd.Tests;

/// <summary>
/// Ordinary videos nobody on this project made (issue 9), through the edge, on the real services: each completes
/// with HLS and DASH that ffprobe reads back at the right display aspect, or fails saying what was wrong.
/// </summary>
public class RealWorldMediaTests(Pipeline pipeline) : IClassFixture<Pipeline>
{
    [Fact]
    public async Task A_720p_mp4_with_mp3_a_data_track_and_no_sample_aspect_packages_at_one_display_aspect()
    {
        var job = await CompletedAsync(await pipeline.Clips.UnsetAspectMp4Async("unset-aspect"));

        await AssertEveryRenditionShowsAsync(job, 16.0 / 9, ["1280x720", "854x480", "640x360"]);
    }

    [Fact]
    public async Task A_text_screencast_passes_the_gate_which_judges_encode_loss_at_each_rungs_own_size()
    {
        // The full-size figures are reported only where the gate is asked for them.
        await pipeline.RestartAsync("validator", new Dictionary<string, string> { ["QualityGate__FullSizeScores"] = "true" });
        try
        {
            var job = await CompletedAsync(await pipeline.Clips.TextScreencastAsync("screencast"));

            await AssertEveryRenditionShowsAsync(job, 976.0 / 736, ["954x720", "636x480", "478x360"]);
            var scores = job.GetProperty("result").GetProperty("quality_scores").EnumerateArray().ToList();
            var score360 = scores.Single(s => s.GetProperty("rendition").GetString() == "360p");
            // The full-size comparison still shows the resolution given up, as information.
            Assert.True(score360.GetProperty("full_size_psnr").GetDouble() < 25, score360.ToString());
            Assert.True(score360.GetProperty("psnr").GetDouble() > 30, score360.ToString());
            Assert.All(scores, s => Assert.True(s.GetProperty("passed").GetBoolean(), s.ToString()));
        }
        finally
        {
            await pipeline.RestoreAsync();
        }
    }

    [Fact]
    public async Task A_flv_that_decodes_cleanly_is_accepted_although_it_holds_less_data_than_its_header_states()
    {
        var job = await CompletedAsync(await pipeline.Clips.SparkFlvAsync("spark"));

        await AssertEveryRenditionShowsAsync(job, 4.0 / 3, ["320x240"]);
    }

    [Fact]
    public async Task A_phone_video_turned_90_degrees_comes_out_upright_in_portrait()
    {
        var job = await CompletedAsync(await pipeline.Clips.RotatedPhoneClipAsync("phone", 90));

        await AssertEveryRenditionShowsAsync(job, 360.0 / 640, ["360x640"]);
    }

    [Fact]
    public async Task A_file_cut_off_after_its_index_is_rejected_at_upload_as_truncated()
    {
        var path = await pipeline.Clips.TruncatedFaststartAsync("cut-off");

        var response = await pipeline.UploadAsync(path);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Contains("truncated", problem.GetProperty("detail").GetString()!);
        var job = await pipeline.WaitForStatusAsync(problem.GetProperty("job_id").GetGuid(), "failed");
        Assert.Contains("truncated", job.GetProperty("error_message").GetString()!);
    }

    private async Task<JsonElement> CompletedAsync(string path)
    {
        var jobId = await pipeline.SubmitAsync(path);
        var job = await pipeline.WaitForJobAsync(jobId, j => j.GetProperty("status").GetString() is "completed" or "failed");
        Assert.True(job.GetProperty("status").GetString() == "completed", $"job failed: {job}");
        return job;
    }

    /// <summary>Every HLS variant and every DASH video stream, fetched through the edge, shows at <paramref name="aspect"/>.</summary>
    private async Task AssertEveryRenditionShowsAsync(JsonElement job, double aspect, string[] sizes)
    {
        var result = job.GetProperty("result");
        var master = result.GetProperty("hls_manifest_url").GetString()!;
        var playlist = await pipeline.Edge.GetStringAsync(master);
        var variants = playlist.Split('\n').Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
        var seen = new List<string>();
        foreach (var variant in variants)
            seen.AddRange(await VideoStreamsAsync(master[..(master.LastIndexOf('/') + 1)] + variant, aspect));
        Assert.Equal(sizes, seen);

        var dash = await VideoStreamsAsync(result.GetProperty("dash_manifest_url").GetString()!, aspect);
        Assert.Equal(sizes, dash);
    }

    private async Task<List<string>> VideoStreamsAsync(string url, double aspect)
    {
        var lines = (await pipeline.ProbeUrlAsync(url, "-select_streams", "v", "-show_entries", "stream=width,height,sample_aspect_ratio",
            "-of", "csv=p=0")).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var sizes = new List<string>();
        foreach (var line in lines)
        {
            var fields = line.Split(',');
            int width = int.Parse(fields[0]), height = int.Parse(fields[1]);
            var sar = fields[2].Split(':').Select(x => double.Parse(x, CultureInfo.InvariantCulture)).ToArray();
            var shown = width * (sar[0] > 0 ? sar[0] / sar[1] : 1) / height;
            Assert.True(Math.Abs(shown / aspect - 1) < 0.002, $"{url}: {line} shows at {shown:0.####}, not {aspect:0.####}");
            sizes.Add($"{width}x{height}");
        }
        // ffprobe lists each stream once per program and once overall.
        return sizes.Distinct().ToList();
    }
}
