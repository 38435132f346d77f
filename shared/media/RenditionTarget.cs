using Vidline.Contracts;
using Vidline.Media.Storage;

namespace Vidline.Media;

/// <summary>
/// A rung sized for one particular source: what the transcoder should produce. <c>Aspect</c> is the source's
/// display aspect, which the rendition shows at whatever its pixel size (null: square pixels).
/// </summary>
public sealed record RenditionTarget(string Name, int Width, int Height, int VideoBitrateKbps, int AudioBitrateKbps,
    DisplayAspect? Aspect = null)
{
    /// <summary>
    /// Why <paramref name="names"/> cannot each be a folder of its own, beside the shared sound track and the manifests,
    /// in an attempt folder or a package (null: they can). Names come from messages: one that climbs out of the folder,
    /// takes the sound track's or a manifest's place, or is used twice would write over other files.
    /// </summary>
    public static string? NamesProblem(IEnumerable<string> names)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in names)
        {
            if (name.IndexOfAny(['/', '\\', '%', ',', ':', ' ']) >= 0 || name.Any(char.IsControl) ||
                name is "" or "." or ".." or LadderFolder.AudioTrack or AbrPackager.HlsMasterName or AbrPackager.DashManifestName)
                return $"rendition name '{name}' is not a plain folder name of its own";
            if (!seen.Add(name)) return $"rendition name '{name}' is used twice";
        }
        return null;
    }

    /// <summary>The display aspect this rendition is shown at.</summary>
    public DisplayAspect DisplayAspect => Aspect ?? DisplayAspect.Of(Width, Height);

    public Rendition ToRendition(string key) =>
        new(Name, Width, Height, VideoBitrateKbps, AudioBitrateKbps, key, Aspect?.ToString());
}

/// <summary>
/// A rendition on local disk. <c>Path</c> is what ffmpeg opens to read its picture; <c>AudioPath</c>, when set, is
/// where its sound is instead (one audio track shared by every rung); null means the sound is in <c>Path</c>.
/// </summary>
public sealed record RenditionFile(string Path, RenditionTarget Target, bool HasAudio, string? AudioPath = null)
{
    /// <summary>The rendition as messages carry it. A silent rendition says so with an audio bitrate of 0.</summary>
    public Rendition ToRendition(string key, string? audioKey = null) =>
        Target.ToRendition(key) with { AudioBitrateKbps = HasAudio ? Target.AudioBitrateKbps : 0, AudioKey = audioKey };

    /// <summary>A rendition from a message, found at <paramref name="path"/>; the inverse of <see cref="ToRendition"/>.</summary>
    public static RenditionFile From(Rendition rendition, string path, string? audioPath = null) =>
        new(path, TargetOf(rendition), HasAudio: rendition.AudioBitrateKbps > 0, audioPath);

    /// <summary>A rendition from a message, its picture and sound found in <paramref name="store"/>.</summary>
    public static RenditionFile From(Rendition rendition, IMediaStore store) =>
        From(rendition, store.PathFor(rendition.Key), rendition.AudioKey is { } audio ? store.PathFor(audio) : null);

    /// <summary>The rung a rendition from a message was made for.</summary>
    public static RenditionTarget TargetOf(Rendition rendition) =>
        new(rendition.Name, rendition.Width, rendition.Height, rendition.VideoBitrateKbps, rendition.AudioBitrateKbps,
            DisplayAspect.Parse(rendition.DisplayAspect));
}
