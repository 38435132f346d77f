using System.Buffers.Binary;
using System.Collections.Concurrent;

namespace Vidline.Media.Tests;

/// <summary>
/// The kinds of video real users upload (issue 9), made with ffmpeg on first use: lavfi sources, codecs, metadata
/// options and, where ffmpeg will not write the lie itself, a patched header. Clips are short and small.
/// </summary>
public sealed class MediaCorpus(TestMedia media)
{
    private readonly ConcurrentDictionary<string, Task<string>> _made = new();

    private const string Tone = "sine=frequency=440:sample_rate=48000";
    private static readonly string[] H264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"];
    private static readonly string[] Aac = ["-c:a", "aac", "-b:a", "96k"];

    public Task<string> PathOf(string kind) => _made.GetOrAdd(kind, Make);

    private Task<string> Make(string kind) => kind switch
    {
        // Issue 9, failure 1: no sample aspect at all, 20 fps, MP3 audio and a timecode (data) track.
        "unset-aspect" => Ffmpeg(kind, ".mp4", Picture("1280x720", 20, 2), Audio(2),
            ["-vf", "setsar=0", .. H264, "-c:a", "libmp3lame", "-timecode", "00:00:00:00"]),
        // Issue 9, failure 2: a page of small text in Theora, which a 360p rung cannot keep readable.
        "text-screencast" => TextScreencast(kind),
        // Issue 9, failure 3: FLV's header states a 1000 kb/s video rate that a test card never uses.
        "spark-flv" => Ffmpeg(kind, ".flv", ["-f", "lavfi", "-i", "smptebars=size=320x240:rate=25:duration=5.6"], Audio(5.6),
            ["-c:v", "flv", "-b:v", "1000k", "-c:a", "libmp3lame", "-b:a", "128k"]),
        "anamorphic-16-15" => Ffmpeg(kind, ".mp4", Picture("720x576", 25, 1), Audio(1), ["-vf", "setsar=16/15", .. H264, .. Aac]),
        "anamorphic-64-45" => Ffmpeg(kind, ".mp4", Picture("720x576", 25, 1), Audio(1), ["-vf", "setsar=64/45", .. H264, .. Aac]),
        // x264 only takes odd sizes in 4:4:4.
        "odd-dimensions" => Ffmpeg(kind, ".mp4", Picture("975x737", 25, 1), Audio(1), ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv444p", .. Aac]),
        "portrait-90" => Rotated(kind, 90),
        "portrait-270" => Rotated(kind, 270),
        // Frames dropped in runs (3 of every 10), kept with their own timestamps: a variable frame rate.
        "variable-frame-rate" => Ffmpeg(kind, ".mp4", Picture("320x240", 30, 2), Audio(2),
            ["-vf", "select='lt(mod(n\\,10)\\,7)'", "-vsync", "vfr", .. H264, .. Aac]),
        // 50 progressive frames a second woven into 25 interlaced ones, top field first, coded as fields.
        "interlaced" => Ffmpeg(kind, ".mkv", Picture("720x576", 50, 1), Audio(1),
            ["-vf", "interlace=scan=tff", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-flags", "+ildct+ilme", "-x264opts", "tff=1", .. Aac]),
        "hevc-10bit" => Ffmpeg(kind, ".mp4", Picture("320x240", 25, 1), Audio(1),
            ["-c:v", "libx265", "-preset", "ultrafast", "-pix_fmt", "yuv420p10le", "-x265-params", "log-level=error", "-tag:v", "hvc1", .. Aac]),
        "vp9-10bit" => Ffmpeg(kind, ".webm", Picture("320x240", 25, 1), Audio(1),
            ["-c:v", "libvpx-vp9", "-pix_fmt", "yuv420p10le", "-profile:v", "2", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "500k", "-c:a", "libopus"]),
        "hdr-pq" => Ffmpeg(kind, ".mp4", Picture("320x240", 25, 1), Audio(1),
            ["-vf", "format=yuv420p10le", "-c:v", "libx265", "-preset", "ultrafast", "-tag:v", "hvc1",
             "-x265-params", "log-level=error:colorprim=bt2020:transfer=smpte2084:colormatrix=bt2020nc",
             "-color_primaries", "bt2020", "-color_trc", "smpte2084", "-colorspace", "bt2020nc", .. Aac]),
        "av1" => Ffmpeg(kind, ".mp4", Picture("320x240", 25, 1), Audio(1), ["-c:v", "libsvtav1", "-preset", "12", .. Aac]),
        "vp9" => Ffmpeg(kind, ".webm", Picture("320x240", 25, 1), Audio(1),
            ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "500k", "-c:a", "libopus"]),
        "120fps" => Ffmpeg(kind, ".mp4", Picture("320x240", 120, 1), Audio(1), [.. H264, .. Aac]),
        "1fps" => Ffmpeg(kind, ".mp4", Picture("320x240", 1, 3), Audio(3), [.. H264, .. Aac]),
        // The cover comes first, so "the first video stream" would be the wrong one.
        "cover-art" => CoverArt(kind),
        // A QuickTime timecode track: a data stream beside the picture and sound.
        "data-and-timecode" => Ffmpeg(kind, ".mov", Picture("320x240", 25, 1), Audio(1), [.. H264, .. Aac, "-timecode", "01:00:00:00"]),
        // Silent commentary tracks around the default one, which carries the tone.
        "several-audio-tracks" => Ffmpeg(kind, ".mkv", Picture("320x240", 25, 1),
            ["-f", "lavfi", "-i", "anullsrc=sample_rate=48000:duration=1", .. Audio(1), "-f", "lavfi", "-i", "anullsrc=sample_rate=48000:duration=1"],
            ["-map", "0:v", "-map", "1:a", "-map", "2:a", "-map", "3:a", .. H264, .. Aac,
             "-disposition:a:0", "0", "-disposition:a:1", "default", "-disposition:a:2", "0"]),
        "surround-5.1" => Ffmpeg(kind, ".mp4", Picture("320x240", 25, 1), Audio(1), [.. H264, .. Aac, "-ac", "6"]),
        "mono" => Ffmpeg(kind, ".mp4", Picture("320x240", 25, 1), Audio(1), [.. H264, .. Aac, "-ac", "1"]),
        "audio-longer" => Ffmpeg(kind, ".mp4", Picture("320x240", 25, 1), Audio(2), [.. H264, .. Aac]),
        "audio-shorter" => Ffmpeg(kind, ".mp4", Picture("320x240", 25, 2), Audio(1), [.. H264, .. Aac]),
        "no-audio" => Ffmpeg(kind, ".mp4", Picture("320x240", 25, 1), [], H264),
        "single-frame" => Ffmpeg(kind, ".mp4", Picture("320x240", 25, 1), [], ["-frames:v", "1", .. H264]),
        "16x16" => Ffmpeg(kind, ".mp4", Picture("16x16", 25, 1), Audio(1), [.. H264, .. Aac]),
        "very-tall" => Ffmpeg(kind, ".mp4", Picture("200x1600", 25, 1), Audio(1), [.. H264, .. Aac]),
        "very-wide" => Ffmpeg(kind, ".mp4", Picture("1600x200", 25, 1), Audio(1), [.. H264, .. Aac]),
        "lying-duration" => LyingDuration(kind),
        "camera-like" => Ffmpeg(kind, ".mp4",
            ["-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=30:duration=2,noise=alls=10:allf=t+u,hue=H=t/2"], Audio(2),
            ["-c:v", "libx264", "-preset", "ultrafast", "-crf", "16", "-pix_fmt", "yuv420p", .. Aac]),
        _ => throw new ArgumentException($"no such corpus class: {kind}", nameof(kind)),
    };

    private static string[] Picture(string size, double rate, double seconds) =>
        ["-f", "lavfi", "-i", $"testsrc2=size={size}:rate={rate}:duration={seconds}"];

    private static string[] Audio(double seconds) => ["-f", "lavfi", "-i", $"{Tone}:duration={seconds}"];

    private async Task<string> Rotated(string kind, int degrees)
    {
        var stored = await Ffmpeg(kind + "-stored", ".mp4", Picture("640x360", 25, 1), Audio(1), [.. H264, .. Aac]);
        return await Ffmpeg(kind, ".mp4", ["-i", stored], [], ["-c", "copy", "-metadata:s:v:0", $"rotate={degrees}"]);
    }

    private async Task<string> TextScreencast(string kind)
    {
        var words = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore".Split(' ');
        var random = new Random(9);
        var text = media.In(kind + ".txt");
        await File.WriteAllLinesAsync(text, Enumerable.Range(0, 80).Select(_ =>
            string.Join(' ', Enumerable.Range(0, 26).Select(_ => words[random.Next(words.Length)]))));
        return await Ffmpeg(kind, ".ogv",
            ["-f", "lavfi", "-i", $"color=white:size=976x736:rate=15:duration=2,drawtext=textfile={text}:fontsize=11:x=6:y=4:fontcolor=black:line_spacing=2," +
                                  "drawtext=text=I:fontsize=16:x=100+t*200:y=300:fontcolor=black"],
            Audio(2), ["-c:v", "libtheora", "-q:v", "7", "-c:a", "libvorbis"]);
    }

    private async Task<string> CoverArt(string kind)
    {
        var cover = await Ffmpeg(kind + "-cover", ".png", ["-f", "lavfi", "-i", "color=red:size=300x300"], [], ["-frames:v", "1"]);
        return await Ffmpeg(kind, ".mp4", ["-i", cover], [.. Picture("320x240", 25, 1), .. Audio(1)],
            ["-map", "0", "-map", "1:v", "-map", "2:a", "-c:v:0", "png", "-disposition:v:0", "attached_pic",
             "-c:v:1", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", .. Aac]);
    }

    /// <summary>An MKV whose header claims ten minutes; it holds two seconds.</summary>
    private async Task<string> LyingDuration(string kind)
    {
        var honest = await Ffmpeg(kind + "-honest", ".mkv", Picture("320x240", 25, 2), Audio(2), [.. H264, .. Aac]);
        var bytes = await File.ReadAllBytesAsync(honest);
        // The Segment's Duration element (ID 0x4489) as an 8-byte float, in TimecodeScale units (ms).
        var at = bytes.AsSpan().IndexOf([(byte)0x44, (byte)0x89, (byte)0x88]);
        if (at < 0) throw new InvalidOperationException("no 8-byte Duration element to patch");
        BinaryPrimitives.WriteDoubleBigEndian(bytes.AsSpan(at + 3, 8), 600_000);
        var path = media.In(kind + ".mkv");
        await File.WriteAllBytesAsync(path, bytes);
        return path;
    }

    private async Task<string> Ffmpeg(string name, string extension, string[] inputs, string[] moreInputs, string[] output)
    {
        var path = media.In(name + extension);
        var args = new List<string>();
        string[] all = [.. inputs, .. moreInputs];
        for (var i = 0; i < all.Length; i++)
        {
            if (all[i] == "-i") HardenedInput.AddTo(args, all[++i]);
            else args.Add(all[i]);
        }
        args.AddRange(output);
        args.Add(path);
        await media.Runner.RunFfmpegAsync(args);
        return path;
    }
}
