using Vidline.Contracts;

namespace Vidline.Media;

/// <summary>A rung sized for one particular source: what the transcoder should produce.</summary>
public sealed record RenditionTarget(string Name, int Width, int Height, int VideoBitrateKbps, int AudioBitrateKbps)
{
    public Rendition ToRendition(string key) => new(Name, Width, Height, VideoBitrateKbps, AudioBitrateKbps, key);
}

/// <summary>A rendition on local disk.</summary>
public sealed record RenditionFile(string Path, RenditionTarget Target, bool HasAudio)
{
    /// <summary>The rendition as messages carry it. A silent rendition says so with an audio bitrate of 0.</summary>
    public Rendition ToRendition(string key) =>
        Target.ToRendition(key) with { AudioBitrateKbps = HasAudio ? Target.AudioBitrateKbps : 0 };

    /// <summary>A rendition from a message, found at <paramref name="path"/>; the inverse of <see cref="ToRendition"/>.</summary>
    public static RenditionFile From(Rendition rendition, string path) =>
        new(path, new RenditionTarget(rendition.Name, rendition.Width, rendition.Height, rendition.VideoBitrateKbps, rendition.AudioBitrateKbps),
            HasAudio: rendition.AudioBitrateKbps > 0);
}
