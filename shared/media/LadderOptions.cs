namespace Vidline.Media;

/// <summary>One configured rung: a target height and its bitrates.</summary>
public sealed class LadderRung
{
    public string Name { get; set; } = "";
    public int Height { get; set; }
    public int VideoBitrateKbps { get; set; }
    public int AudioBitrateKbps { get; set; } = 128;
}

/// <summary>The ABR ladder and the encoder settings every rung shares. Bound from <c>Media:Ladder</c>.</summary>
public sealed class LadderOptions
{
    public const string SectionName = "Media:Ladder";

    // Config binding appends to a pre-filled list, so the defaults live in DefaultRungs
    // and apply only when configuration supplies none.
    public List<LadderRung> Rungs { get; set; } = [];

    public static IReadOnlyList<LadderRung> DefaultRungs { get; } =
    [
        new() { Name = "1080p", Height = 1080, VideoBitrateKbps = 5000, AudioBitrateKbps = 128 },
        new() { Name = "720p", Height = 720, VideoBitrateKbps = 2800, AudioBitrateKbps = 128 },
        new() { Name = "480p", Height = 480, VideoBitrateKbps = 1400, AudioBitrateKbps = 128 },
        new() { Name = "360p", Height = 360, VideoBitrateKbps = 800, AudioBitrateKbps = 96 },
    ];

    /// <summary>Seconds between forced keyframes; also the DASH/HLS segment length.</summary>
    public double KeyframeIntervalSeconds { get; set; } = 2;

    public string Preset { get; set; } = "veryfast";

    /// <summary>Renditions never run faster than this; a 120 fps source is halved (and 240 fps quartered) to it.</summary>
    public double MaxFrameRate { get; set; } = 60;

    public IReadOnlyList<LadderRung> EffectiveRungs => Rungs.Count > 0 ? Rungs : DefaultRungs;
}
