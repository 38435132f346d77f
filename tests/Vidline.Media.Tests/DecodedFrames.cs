using System.Globalization;

namespace Vidline.Media.Tests;

/// <summary>Every picture of a file as ffprobe decodes it: its presentation time and whether it is a keyframe.</summary>
internal static class DecodedFrames
{
    public static async Task<List<(double Time, bool Key)>> ReadAsync(FfmpegRunner runner, string path)
    {
        var args = new List<string> { "-v", "error", "-select_streams", "v:0", "-show_entries", "frame=key_frame,pts_time", "-of", "csv=p=0" };
        HardenedInput.AddTo(args, path);
        var frames = new List<(double, bool)>();
        await runner.RunFfprobeAsync(args, line =>
        {
            var parts = line.Trim().TrimEnd(',').Split(',');
            if (parts.Length >= 2 && double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var time))
                frames.Add((time, parts[0] == "1"));
        });
        return frames;
    }
}
