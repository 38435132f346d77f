using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace Vidline.Media;

/// <summary>Names, relative to the package directory, of the two manifests a package offers.</summary>
public sealed record AbrPackage(string HlsMaster, string DashManifest);

/// <summary>
/// Packages encoded renditions for adaptive streaming in one ffmpeg run: the dash muxer writes
/// CMAF-style fMP4 segments once and describes them both as DASH (manifest.mpd) and HLS
/// (master.m3u8 plus one media playlist per stream). Streams are copied, not re-encoded.
/// </summary>
public sealed partial class AbrPackager(FfmpegRunner runner, LadderOptions options)
{
    public const string HlsMasterName = "master.m3u8";
    public const string DashManifestName = "manifest.mpd";

    /// <param name="onProgress">Called per ffmpeg progress block (how far through the renditions the muxer is).</param>
    public async Task<AbrPackage> PackageAsync(
        IReadOnlyList<RenditionFile> renditions, string outputDirectory, CancellationToken cancellationToken = default,
        Action<FfmpegProgress>? onProgress = null)
    {
        if (renditions.Count == 0) throw new ArgumentException("Nothing to package.", nameof(renditions));
        Directory.CreateDirectory(outputDirectory);
        var mpdPath = Path.GetFullPath(Path.Combine(outputDirectory, DashManifestName));
        var masterPath = Path.GetFullPath(Path.Combine(outputDirectory, HlsMasterName));

        var parser = new FfmpegProgressParser();
        await runner.RunFfmpegAsync(BuildArguments(renditions, mpdPath),
            line => { if (parser.Feed(line) is { } progress) onProgress?.Invoke(progress); }, null, cancellationToken).ConfigureAwait(false);

        var master = HlsMasterPlaylist.Parse(await File.ReadAllTextAsync(masterPath, cancellationToken).ConfigureAwait(false));
        if (master.Problems().Count > 0)
        {
            // Players pick variants by these attributes; fill in whatever the muxer left out
            // from what we know about the renditions and what the MPD says about codecs.
            Complete(master, renditions, XDocument.Load(mpdPath));
            await File.WriteAllTextAsync(masterPath, master.ToString(), cancellationToken).ConfigureAwait(false);
            if (master.Problems() is { Count: > 0 } left)
                throw new InvalidOperationException($"HLS master playlist is incomplete: {string.Join(", ", left)}");
        }
        return new AbrPackage(HlsMasterName, DashManifestName);
    }

    internal List<string> BuildArguments(IReadOnlyList<RenditionFile> renditions, string mpdPath)
    {
        var args = new List<string> { "-progress", "pipe:1", "-nostats" };
        foreach (var rendition in renditions) HardenedInput.AddTo(args, rendition.Path);

        // Video of every rendition first, so output stream i is rendition i; audio once, from the
        // first rendition (they all carry the same source audio).
        for (var i = 0; i < renditions.Count; i++) args.AddRange(["-map", $"{i}:v:0"]);
        var hasAudio = renditions[0].HasAudio;
        if (hasAudio) args.AddRange(["-map", "0:a:0"]);

        args.AddRange([
            "-c", "copy",
            // The dash muxer compares every stream's display aspect exactly and refuses an adaptation set that
            // disagrees. The renditions' own pixel aspects can be rounded (H.264 stores it in 16-bit terms), so
            // the one display aspect of the job is stated here and every stream's pixel aspect derived from it.
            "-aspect:v", renditions[0].Target.DisplayAspect.ToString(),
            "-f", "dash",
            "-seg_duration", options.KeyframeIntervalSeconds.ToString(CultureInfo.InvariantCulture),
            "-use_template", "1",
            "-use_timeline", "1",
            "-hls_playlist", "1",
            "-hls_master_name", HlsMasterName,
            "-adaptation_sets", hasAudio ? "id=0,streams=v id=1,streams=a" : "id=0,streams=v",
            mpdPath,
        ]);
        return args;
    }

    /// <summary>Fills missing BANDWIDTH, RESOLUTION and CODECS of each variant.</summary>
    internal static void Complete(HlsMasterPlaylist master, IReadOnlyList<RenditionFile> renditions, XDocument mpd)
    {
        var codecsById = mpd.Descendants().Where(e => e.Name.LocalName == "Representation")
            .ToDictionary(e => (string?)e.Attribute("id") ?? "", e => (string?)e.Attribute("codecs") ?? "");
        // Audio, when present, is the stream after all the videos.
        codecsById.TryGetValue(renditions.Count.ToString(CultureInfo.InvariantCulture), out var audioCodecs);

        var variants = master.Variants;
        for (var n = 0; n < variants.Count; n++)
        {
            var variant = variants[n];
            // The dash muxer names media playlists after the output stream index; fall back to order.
            var match = MediaPlaylistIndex().Match(variant.Uri);
            var index = match.Success ? int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : n;
            if (index < 0 || index >= renditions.Count) continue;

            var target = renditions[index].Target;
            var audioKbps = renditions[0].HasAudio ? target.AudioBitrateKbps : 0;
            variant.SetIfMissing("BANDWIDTH", ((target.VideoBitrateKbps + audioKbps) * 1000L).ToString(CultureInfo.InvariantCulture));
            variant.SetIfMissing("RESOLUTION", $"{target.Width}x{target.Height}");

            var codecs = new[] { codecsById.GetValueOrDefault(index.ToString(CultureInfo.InvariantCulture)), audioCodecs }
                .Where(c => !string.IsNullOrEmpty(c));
            var joined = string.Join(",", codecs);
            if (joined.Length > 0) variant.SetIfMissing("CODECS", $"\"{joined}\"");
        }
    }

    [GeneratedRegex(@"media_(\d+)\.m3u8$")]
    private static partial Regex MediaPlaylistIndex();
}
