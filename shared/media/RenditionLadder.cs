using Vidline.Contracts;

namespace Vidline.Media;

/// <summary>Picks the rungs that fit a given source and sizes them to its aspect ratio.</summary>
public sealed class RenditionLadder(LadderOptions options)
{
    public LadderOptions Options { get; } = options;

    public IReadOnlyList<RenditionTarget> For(MediaInfo source)
    {
        if (source.Width <= 0 || source.Height <= 0)
            throw new ArgumentException("Source has no picture size.", nameof(source));

        var rungs = Options.EffectiveRungs.OrderByDescending(r => r.Height).ToList();
        if (rungs.Count == 0) throw new InvalidOperationException("The ladder has no rungs.");

        // Upscaling costs bits and adds no detail, so only rungs at or below the source height.
        var fitting = rungs
            .Where(r => r.Height <= source.Height)
            .Select(r => Target(r.Name, r.Height, r.VideoBitrateKbps, r.AudioBitrateKbps, source))
            .ToList();
        if (fitting.Count > 0) return fitting;

        // Smaller than every rung: one rendition at the source's own (even) height, with the
        // smallest rung's bitrate scaled down by pixel count, since fewer pixels need fewer bits.
        var smallest = rungs[^1];
        var height = Even(source.Height);
        var scale = (double)height * height / ((double)smallest.Height * smallest.Height);
        var videoKbps = Math.Max(100, (int)Math.Round(smallest.VideoBitrateKbps * scale));
        return [Target($"{height}p", height, videoKbps, smallest.AudioBitrateKbps, source)];
    }

    private static RenditionTarget Target(string name, int height, int videoKbps, int audioKbps, MediaInfo source)
    {
        var evenHeight = Even(height);
        // libx264 with yuv420p needs even dimensions: round the width to the nearest even number.
        var width = Math.Max(2, 2 * (int)Math.Round((double)evenHeight * source.Width / source.Height / 2));
        return new RenditionTarget(name, width, evenHeight, videoKbps, audioKbps);
    }

    private static int Even(int n) => Math.Max(2, n - n % 2);
}
