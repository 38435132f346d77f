using Vidline.Contracts;

namespace Vidline.Media;

/// <summary>
/// Picks the rungs that fit a given source and sizes them to its display aspect. A rung's height is the
/// picture's short side, so a portrait phone video gets the same ladder as its landscape twin.
/// </summary>
public sealed class RenditionLadder(LadderOptions options)
{
    public LadderOptions Options { get; } = options;

    public IReadOnlyList<RenditionTarget> For(MediaInfo source)
    {
        if (source.Width <= 0 || source.Height <= 0)
            throw new ArgumentException("Source has no picture size.", nameof(source));

        var rungs = Options.EffectiveRungs.OrderByDescending(r => r.Height).ToList();
        if (rungs.Count == 0) throw new InvalidOperationException("The ladder has no rungs.");
        var shape = new Shape(source.Width, source.Height);

        // Upscaling costs bits and adds no detail, so only rungs at or below the source's short side.
        var fitting = rungs
            .Where(r => r.Height <= shape.ShortSide)
            .Select(r => shape.Target(r.Name, r.Height, r.VideoBitrateKbps, r.AudioBitrateKbps))
            .ToList();
        if (fitting.Count > 0) return fitting;

        // Smaller than every rung: one rendition at the source's own (even) size, with the smallest
        // rung's bitrate scaled down by pixel count, since fewer pixels need fewer bits.
        var smallest = rungs[^1];
        var side = Even(shape.ShortSide);
        var scale = (double)side * side / ((double)smallest.Height * smallest.Height);
        var videoKbps = Math.Max(100, (int)Math.Round(smallest.VideoBitrateKbps * scale));
        return [shape.Target($"{side}p", side, videoKbps, smallest.AudioBitrateKbps)];
    }

    private static int Even(int n) => Math.Max(2, n - n % 2);

    /// <summary>The source's upright, square-pixel picture; every rung keeps its display aspect exactly.</summary>
    private readonly record struct Shape(int Width, int Height)
    {
        public int ShortSide => Math.Min(Width, Height);

        public RenditionTarget Target(string name, int shortSide, int videoKbps, int audioKbps)
        {
            var evenShort = Even(shortSide);
            // libx264 with yuv420p needs even dimensions: round the long side to the nearest even number.
            // The few per cent of pixel shape this costs is put back by the sample aspect the transcoder sets.
            var evenLong = Math.Max(2, 2 * (int)Math.Round((double)evenShort * Math.Max(Width, Height) / ShortSide / 2));
            var (width, height) = Width >= Height ? (evenLong, evenShort) : (evenShort, evenLong);
            return new RenditionTarget(name, width, height, videoKbps, audioKbps, DisplayAspect.Of(Width, Height));
        }
    }
}
