using Vidline.Contracts;

namespace Vidline.Media;

/// <summary>A rung sized for one particular source: what the transcoder should produce.</summary>
public sealed record RenditionTarget(string Name, int Width, int Height, int VideoBitrateKbps, int AudioBitrateKbps)
{
    public Rendition ToRendition(string key) => new(Name, Width, Height, VideoBitrateKbps, AudioBitrateKbps, key);
}

/// <summary>A rendition on local disk.</summary>
public sealed record RenditionFile(string Path, RenditionTarget Target, bool HasAudio);
