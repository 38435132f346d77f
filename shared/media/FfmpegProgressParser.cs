using System.Globalization;

namespace Vidline.Media;

/// <summary>
/// Turns the key=value lines of <c>ffmpeg -progress pipe:1</c> into <see cref="FfmpegProgress"/>
/// records, one per block. Feed it every stdout line; it returns a record when a block closes.
/// </summary>
public sealed class FfmpegProgressParser
{
    private long? _frame;
    private double? _fps;
    private TimeSpan? _outTimeUs;
    private TimeSpan? _outTimeMs;
    private double? _speed;

    public FfmpegProgress? Feed(string line)
    {
        var eq = line.IndexOf('=');
        if (eq <= 0) return null;
        var key = line[..eq].Trim();
        var value = line[(eq + 1)..].Trim();

        switch (key)
        {
            case "frame": _frame = ParseLong(value); break;
            case "fps": _fps = ParseDouble(value); break;
            case "out_time_us": _outTimeUs = ParseMicroseconds(value); break;
            // Despite its name, out_time_ms is also in microseconds (a long-standing ffmpeg quirk).
            case "out_time_ms": _outTimeMs = ParseMicroseconds(value); break;
            case "speed": _speed = ParseDouble(value.TrimEnd('x', 'X')); break;
            case "progress":
                var progress = new FfmpegProgress(_frame, _fps, _outTimeUs ?? _outTimeMs, _speed, value == "end");
                _frame = null; _fps = null; _outTimeUs = null; _outTimeMs = null; _speed = null;
                return progress;
        }
        return null;
    }

    public IEnumerable<FfmpegProgress> FeedAll(IEnumerable<string> lines)
    {
        foreach (var line in lines)
            if (Feed(line) is { } progress) yield return progress;
    }

    private static long? ParseLong(string value) =>
        long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : null;

    private static double? ParseDouble(string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d) ? d : null;

    // Before the first packet is muxed ffmpeg can print a negative time; that is "nothing yet", not an error.
    private static TimeSpan? ParseMicroseconds(string value) =>
        ParseLong(value) is { } us ? TimeSpan.FromMicroseconds(Math.Max(0, us)) : null;
}
