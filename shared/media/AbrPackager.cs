using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Xml.Linq;

namespace Vidline.Media;

/// <summary>Names, relative to the package directory, of the two manifests a package offers.</summary>
public sealed record AbrPackage(string HlsMaster, string DashManifest);

/// <summary>
/// Packages the transcoder's segments for adaptive streaming without touching a byte of media: every track's init and
/// media segments are linked into the package (<c>{rung}/…</c>, <c>audio/…</c>), and HLS (master.m3u8 and one media
/// playlist per track) and DASH (manifest.mpd) are written from what the segments hold, then checked.
/// </summary>
public sealed class AbrPackager
{
    public const string HlsMasterName = "master.m3u8";
    public const string DashManifestName = "manifest.mpd";

    private const string AudioGroup = "audio";
    private static readonly XNamespace Mpd = "urn:mpeg:dash:schema:mpd:2011";

    public Task<AbrPackage> PackageAsync(
        IReadOnlyList<RenditionFile> renditions, string outputDirectory, CancellationToken cancellationToken = default)
    {
        if (renditions.Count == 0) throw new ArgumentException("Nothing to package.", nameof(renditions));
        // Names come from the message and become folders of the package: bad data, refused before anything is written.
        if (RenditionTarget.NamesProblem(renditions.Select(r => r.Target.Name)) is { } problem) throw new InvalidDataException(problem);
        var videos = renditions.Select(r => SegmentedTrack.Read(TrackFolderOf(r.Path))).ToList();
        SegmentedTrack.CheckAligned(videos);
        var audio = renditions[0] switch
        {
            { HasAudio: false } => null,
            { AudioPath: { } path } => SegmentedTrack.Read(TrackFolderOf(path)),
            _ => throw new InvalidDataException("the renditions carry sound but name no sound track"),
        };

        Directory.CreateDirectory(outputDirectory);
        for (var i = 0; i < renditions.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Publish(videos[i], Path.Combine(outputDirectory, renditions[i].Target.Name));
        }
        if (audio is not null) Publish(audio, Path.Combine(outputDirectory, LadderFolder.AudioTrack));

        var master = Master(renditions, videos, audio);
        if (master.Problems() is { Count: > 0 } problems)
            throw new InvalidOperationException($"HLS master playlist is incomplete: {string.Join(", ", problems)}");
        SegmentedTrack.WriteWhole(Path.Combine(outputDirectory, HlsMasterName), master.ToString());

        var mpd = DashManifest(renditions, videos, audio);
        CheckSegmentsExist(mpd, outputDirectory);
        SegmentedTrack.WriteWhole(Path.Combine(outputDirectory, DashManifestName), mpd.Declaration + "\n" + mpd);
        return Task.FromResult(new AbrPackage(HlsMasterName, DashManifestName));
    }

    /// <summary>A rendition's path is its media playlist (or any file) in its track's folder.</summary>
    private static string TrackFolderOf(string path) => Directory.Exists(path) ? path : Path.GetDirectoryName(Path.GetFullPath(path))!;

    /// <summary>The track's files appear in the package as links to the same bytes, with a media playlist written for them.</summary>
    private static void Publish(SegmentedTrack track, string folder)
    {
        Directory.CreateDirectory(folder);
        foreach (var name in track.Segments.Select(s => s.FileName).Prepend(SegmentedTrack.InitName))
            SameBytes.Link(Path.Combine(track.Directory, name), Path.Combine(folder, name));
        SegmentedTrack.WriteWhole(Path.Combine(folder, SegmentedTrack.MediaPlaylistName), track.MediaPlaylist());
    }

    internal static HlsMasterPlaylist Master(IReadOnlyList<RenditionFile> renditions, IReadOnlyList<SegmentedTrack> videos, SegmentedTrack? audio)
    {
        var text = new StringBuilder("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n");
        if (audio is not null)
            text.Append(CultureInfo.InvariantCulture,
                $"#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"{AudioGroup}\",NAME=\"{AudioGroup}\",DEFAULT=YES,AUTOSELECT=YES,CHANNELS=\"2\",URI=\"{LadderFolder.AudioTrack}/{SegmentedTrack.MediaPlaylistName}\"\n");
        for (var i = 0; i < renditions.Count; i++)
        {
            var (target, video) = (renditions[i].Target, videos[i]);
            var codecs = audio is null ? video.Init.Codecs : $"{video.Init.Codecs},{audio.Init.Codecs}";
            // BANDWIDTH is the peak of the picture's segments plus the sound's, as players expect; the average beside it.
            var peak = video.PeakBitsPerSecond + (audio?.PeakBitsPerSecond ?? 0);
            var average = video.AverageBitsPerSecond + (audio?.AverageBitsPerSecond ?? 0);
            text.Append(CultureInfo.InvariantCulture,
                    $"#EXT-X-STREAM-INF:BANDWIDTH={peak},AVERAGE-BANDWIDTH={average},RESOLUTION={target.Width}x{target.Height},CODECS=\"{codecs}\"")
                .Append(audio is null ? "" : $",AUDIO=\"{AudioGroup}\"")
                .Append(CultureInfo.InvariantCulture, $"\n{target.Name}/{SegmentedTrack.MediaPlaylistName}\n");
        }
        return HlsMasterPlaylist.Parse(text.ToString());
    }

    /// <summary>
    /// A static MPD: one adaptation set for the picture (one representation per rung) and one for the sound, each
    /// representation naming its segments by number with the exact timeline they hold. The presentation starts where
    /// the transcoder starts every timeline (<see cref="LadderFolder.TimelineStartSeconds"/>).
    /// </summary>
    internal static XDocument DashManifest(IReadOnlyList<RenditionFile> renditions, IReadOnlyList<SegmentedTrack> videos, SegmentedTrack? audio)
    {
        var end = Math.Max(videos.Max(v => v.EndSeconds), audio?.EndSeconds ?? 0);
        var aspect = renditions[0].Target.DisplayAspect;
        var videoSet = new XElement(Mpd + "AdaptationSet",
            new XAttribute("id", 0), new XAttribute("contentType", "video"), new XAttribute("mimeType", "video/mp4"),
            new XAttribute("segmentAlignment", "true"), new XAttribute("startWithSAP", 1), new XAttribute("par", aspect.ToString()),
            renditions.Select((r, i) =>
            {
                var (num, den) = r.Target.DisplayAspect.SampleAspectFor(r.Target.Width, r.Target.Height);
                return Representation(r.Target.Name, videos[i],
                    new XAttribute("width", r.Target.Width), new XAttribute("height", r.Target.Height), new XAttribute("sar", $"{num}:{den}"));
            }));
        var period = new XElement(Mpd + "Period", new XAttribute("id", 0), new XAttribute("start", "PT0S"), videoSet);
        if (audio is not null)
            period.Add(new XElement(Mpd + "AdaptationSet",
                new XAttribute("id", 1), new XAttribute("contentType", "audio"), new XAttribute("mimeType", "audio/mp4"),
                new XAttribute("segmentAlignment", "true"), new XAttribute("startWithSAP", 1),
                Representation(LadderFolder.AudioTrack, audio, new XAttribute("audioSamplingRate", audio.Init.Timescale),
                    new XElement(Mpd + "AudioChannelConfiguration",
                        new XAttribute("schemeIdUri", "urn:mpeg:dash:23003:3:audio_channel_configuration:2011"), new XAttribute("value", 2)))));
        return new XDocument(new XDeclaration("1.0", "utf-8", null),
            new XElement(Mpd + "MPD",
                new XAttribute("profiles", "urn:mpeg:dash:profile:isoff-live:2011"), new XAttribute("type", "static"),
                new XAttribute("mediaPresentationDuration", Duration(end - LadderFolder.TimelineStartSeconds)),
                new XAttribute("minBufferTime", Duration(2 * videos[0].Segments.Max(s => videos[0].Seconds(s.Fragment.Duration)))),
                period));
    }

    private static XElement Representation(string id, SegmentedTrack track, params object[] content)
    {
        // Runs of segments of equal length are one S element with a repeat count.
        var timeline = new XElement(Mpd + "SegmentTimeline");
        XElement? last = null;
        Fmp4Fragment? before = null;
        var repeats = 0;
        foreach (var fragment in track.Segments.Select(s => s.Fragment))
        {
            // Where a segment starts a sample off its predecessor's end (a resumed encode), the timeline says so.
            var contiguous = before is not null && fragment.DecodeTime == before.End;
            before = fragment;
            if (contiguous && (ulong)last!.Attribute("d")! == fragment.Duration)
            {
                last.SetAttributeValue("r", ++repeats);
                continue;
            }
            last = new XElement(Mpd + "S", new XAttribute("d", fragment.Duration));
            if (!contiguous) last.SetAttributeValue("t", fragment.DecodeTime);
            timeline.Add(last);
            repeats = 0;
        }
        var bandwidth = track.PeakBitsPerSecond;
        return new XElement(Mpd + "Representation",
            new XAttribute("id", id), new XAttribute("codecs", track.Init.Codecs), new XAttribute("bandwidth", bandwidth), content,
            new XElement(Mpd + "SegmentTemplate",
                new XAttribute("timescale", track.Init.Timescale),
                new XAttribute("presentationTimeOffset", (long)Math.Round(LadderFolder.TimelineStartSeconds * track.Init.Timescale)),
                new XAttribute("initialization", $"{id}/{SegmentedTrack.InitName}"),
                new XAttribute("media", $"{id}/{SegmentedTrack.SegmentTemplate}"),
                new XAttribute("startNumber", 1),
                timeline));
    }

    /// <summary>Every file the MPD names is in the package.</summary>
    private static void CheckSegmentsExist(XDocument mpd, string outputDirectory)
    {
        foreach (var template in mpd.Descendants(Mpd + "SegmentTemplate"))
        {
            var count = template.Descendants(Mpd + "S").Sum(s => 1 + ((int?)s.Attribute("r") ?? 0));
            var start = (int)template.Attribute("startNumber")!;
            var media = (string)template.Attribute("media")!;
            var names = Enumerable.Range(start, count)
                .Select(n => media.Replace("$Number%05d$", n.ToString("00000", CultureInfo.InvariantCulture), StringComparison.Ordinal))
                .Prepend((string)template.Attribute("initialization")!);
            if (names.FirstOrDefault(name => !File.Exists(Path.Combine(outputDirectory, name))) is { } missing)
                throw new InvalidOperationException($"DASH manifest names {missing}, which the package lacks");
        }
    }

    private static string Duration(double seconds) => string.Create(CultureInfo.InvariantCulture, $"PT{seconds:0.000}S");
}

/// <summary>Makes a file appear under a second name without copying its bytes (a hard link on the same volume).</summary>
internal static class SameBytes
{
    private const int CrossDevice = 18; // EXDEV

    public static void Link(string existing, string newPath)
    {
        if (File.Exists(newPath)) File.Delete(newPath);
        if (link(existing, newPath) == 0) return;
        var errno = Marshal.GetLastPInvokeError();
        // Another volume cannot share the bytes: copying is the only way there.
        if (errno == CrossDevice) { File.Copy(existing, newPath); return; }
        throw new IOException($"could not link {Path.GetFileName(existing)} into the package (errno {errno})");
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int link(string oldPath, string newPath);
}
