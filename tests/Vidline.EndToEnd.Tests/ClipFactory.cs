using System.Diagnostics;

namespace Vidline.EndToEnd.Tests;

/// <summary>Makes small test videos with ffmpeg at test time (nothing binary is checked in).</summary>
public sealed class ClipFactory(string directory)
{
    /// <summary>A short clip with a test pattern and a tone.</summary>
    public Task<string> ClipAsync(string name, int width = 640, int height = 360, int seconds = 3) =>
        MakeAsync(name, ["-f", "lavfi", "-i", $"testsrc2=size={width}x{height}:rate=25", "-f", "lavfi", "-i", "sine=frequency=440",
            "-t", seconds.ToString(), "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest"]);

    /// <summary>A long 1080p clip made cheaply: two seconds encoded, then looped by stream copy.</summary>
    public async Task<string> LongClipAsync(string name, int seconds = 40)
    {
        var seed = await ClipAsync(name + "-seed", 1920, 1080, 2);
        return await MakeAsync(name, ["-stream_loop", (seconds / 2 - 1).ToString(), "-i", seed, "-c", "copy"]);
    }

    public Task<string> SilentClipAsync(string name) =>
        MakeAsync(name, ["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25", "-t", "2", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]);

    public Task<string> AudioOnlyAsync(string name) =>
        MakeAsync(name, ["-f", "lavfi", "-i", "sine=frequency=440", "-t", "2", "-c:a", "aac"]);

    /// <summary>One PNG still: an image, not a video.</summary>
    public Task<string> StillImageAsync(string name) =>
        MakeAsync(name, ".png", ["-f", "lavfi", "-i", "testsrc2=size=320x180", "-frames:v", "1"]);

    /// <summary>The first half of a clip whose index sits at the end: ffprobe finds no moov atom.</summary>
    public async Task<string> TruncatedAsync(string name)
    {
        var whole = await ClipAsync(name + "-whole", 320, 180, 2);
        var path = Path.Combine(directory, name + ".mp4");
        var bytes = await File.ReadAllBytesAsync(whole);
        await File.WriteAllBytesAsync(path, bytes[..(bytes.Length / 2)]);
        return path;
    }

    /// <summary>The first half of a clip whose index sits at the front: it probes fine, but its data stops halfway.</summary>
    public async Task<string> TruncatedFaststartAsync(string name)
    {
        var whole = await MakeAsync(name + "-whole", ["-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25", "-t", "4",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-movflags", "+faststart"]);
        var path = Path.Combine(directory, name + ".mp4");
        var bytes = await File.ReadAllBytesAsync(whole);
        await File.WriteAllBytesAsync(path, bytes[..(bytes.Length / 2)]);
        return path;
    }

    public async Task<string> EmptyFileAsync(string name)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, name);
        await File.WriteAllBytesAsync(path, []);
        return path;
    }

    public async Task<string> TextFileAsync(string name)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, name);
        await File.WriteAllTextAsync(path, "this is not a video, just some text\n");
        return path;
    }

    /// <summary>
    /// Issue 9, failure 1: 1280x720 H.264 + MP3 at 20 fps with a timecode (data) track and no sample aspect at all
    /// (setsar=0), as some cameras write it.
    /// </summary>
    public Task<string> UnsetAspectMp4Async(string name) =>
        MakeAsync(name, ["-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=20", "-f", "lavfi", "-i", "sine=frequency=440",
            "-t", "2", "-vf", "setsar=0", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
            "-c:a", "libmp3lame", "-timecode", "00:00:00:00"]);

    /// <summary>
    /// Issue 9, failure 2: a 976x736 Theora screencast at 15 fps, a page of small text with a moving cursor. Scaled
    /// down to 360p the text is unreadable, which is what a 360p rung is; scaled back up it scores ~15 dB PSNR.
    /// </summary>
    public async Task<string> TextScreencastAsync(string name)
    {
        Directory.CreateDirectory(directory);
        var words = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore".Split(' ');
        var random = new Random(9);
        var text = Path.Combine(directory, name + ".txt");
        await File.WriteAllLinesAsync(text, Enumerable.Range(0, 80).Select(_ =>
            string.Join(' ', Enumerable.Range(0, 26).Select(_ => words[random.Next(words.Length)]))));
        return await MakeAsync(name, ".ogv", ["-f", "lavfi", "-i",
            $"color=white:size=976x736:rate=15:duration=2,drawtext=textfile={text}:fontsize=11:x=6:y=4:fontcolor=black:line_spacing=2," +
            "drawtext=text=I:fontsize=16:x=100+t*200:y=300:fontcolor=black",
            "-f", "lavfi", "-i", "sine=frequency=330:duration=2", "-c:v", "libtheora", "-q:v", "7", "-c:a", "libvorbis"]);
    }

    /// <summary>
    /// Issue 9, failure 3: a 320x240 Sorenson Spark + MP3 FLV of 5.6 s. FLV has no real index: its header states a
    /// 1000 kb/s video rate that a test card never needs, so the file holds far less data than the "index" says.
    /// </summary>
    public Task<string> SparkFlvAsync(string name) =>
        MakeAsync(name, ".flv", ["-f", "lavfi", "-i", "smptebars=size=320x240:rate=25:duration=5.6", "-f", "lavfi", "-i", "sine=duration=5.6",
            "-c:v", "flv", "-b:v", "1000k", "-c:a", "libmp3lame", "-b:a", "128k"]);

    /// <summary>A phone video: stored landscape, with display-matrix metadata saying to turn it by <paramref name="degrees"/>.</summary>
    public async Task<string> RotatedPhoneClipAsync(string name, int degrees)
    {
        var stored = await ClipAsync(name + "-stored", 640, 360, 2);
        return await MakeAsync(name, ["-i", stored, "-c", "copy", "-metadata:s:v:0", $"rotate={degrees}"]);
    }

    private Task<string> MakeAsync(string name, IEnumerable<string> arguments) => MakeAsync(name, ".mp4", arguments);

    private async Task<string> MakeAsync(string name, string extension, IEnumerable<string> arguments)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, name + extension);
        if (File.Exists(path)) return path;
        var info = new ProcessStartInfo("ffmpeg") { RedirectStandardError = true };
        foreach (var a in new[] { "-v", "error", "-y" }.Concat(arguments).Append(path)) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0) throw new InvalidOperationException($"ffmpeg could not make {name}: {error}");
        return path;
    }
}
