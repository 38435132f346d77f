using System.Globalization;

namespace Vidline.Media;

/// <summary>
/// The shape of the picture a viewer sees, as a reduced fraction ("16:9"). Every rendition of a job carries the
/// same one: the dash muxer refuses an adaptation set whose streams disagree on it, even by a rounding error.
/// </summary>
public readonly record struct DisplayAspect(int Num, int Den)
{
    // Small enough for every container and codec field that stores it, fine enough to be exact for real sizes.
    private const int MaxTerm = 10_000;

    /// <summary>The aspect of a picture <paramref name="width"/> x <paramref name="height"/> in square pixels.</summary>
    public static DisplayAspect Of(int width, int height)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), "A picture has a positive size.");
        return Approximate(width, height);
    }

    /// <summary>"16:9" → 16:9; null for anything else.</summary>
    public static DisplayAspect? Parse(string? text)
    {
        var parts = text?.Split(':', '/');
        return parts is [var n, var d] &&
               int.TryParse(n, NumberStyles.None, CultureInfo.InvariantCulture, out var num) &&
               int.TryParse(d, NumberStyles.None, CultureInfo.InvariantCulture, out var den) && num > 0 && den > 0
            ? Approximate(num, den)
            : null;
    }

    /// <summary>The pixel shape that makes a <paramref name="width"/> x <paramref name="height"/> picture show at this aspect.</summary>
    public (long Num, long Den) SampleAspectFor(int width, int height) => Reduce((long)Num * height, (long)Den * width);

    public double Value => (double)Num / Den;

    public override string ToString() => $"{Num}:{Den}";

    /// <summary>The closest fraction with terms up to <see cref="MaxTerm"/> (continued fractions).</summary>
    private static DisplayAspect Approximate(long num, long den)
    {
        (num, den) = Reduce(num, den);
        if (num <= MaxTerm && den <= MaxTerm) return new((int)num, (int)den);

        var x = (double)num / den;
        long p0 = 0, q0 = 1, p1 = 1, q1 = 0;
        var rest = x;
        while (true)
        {
            var a = (long)Math.Floor(rest);
            long p2 = a * p1 + p0, q2 = a * q1 + q0;
            if (p2 > MaxTerm || q2 > MaxTerm) break;
            (p0, q0, p1, q1) = (p1, q1, p2, q2);
            var fraction = rest - a;
            if (fraction < 1e-12) break;
            rest = 1 / fraction;
        }
        return new((int)Math.Max(1, p1), (int)Math.Max(1, q1));
    }

    private static (long, long) Reduce(long num, long den)
    {
        long a = num, b = den;
        while (b != 0) (a, b) = (b, a % b);
        return (num / a, den / a);
    }
}
