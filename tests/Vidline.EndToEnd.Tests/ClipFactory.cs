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

    /// <summary>The first half of a clip whose index sits at the end: ffprobe finds no moov atom.</summary>
    public async Task<string> TruncatedAsync(string name)
    {
        var whole = await ClipAsync(name + "-whole", 320, 180, 2);
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

    private async Task<string> MakeAsync(string name, IEnumerable<string> arguments)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, name + ".mp4");
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
