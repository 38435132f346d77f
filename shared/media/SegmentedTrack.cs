using System.Globalization;
using System.Text;

namespace Vidline.Media;

/// <summary>One numbered media segment of a track.</summary>
public sealed record TrackSegment(int Number, Fmp4Fragment Fragment)
{
    public string FileName => SegmentedTrack.SegmentName(Number);
}

/// <summary>
/// One track as the transcoder writes it: a folder with an init segment (<c>init.mp4</c>) and complete media segments
/// numbered from 1 (<c>seg-00001.m4s</c>…), each starting on the track's clock exactly where the one before ended.
/// HLS (<c>media.m3u8</c>) and DASH describe the same files; both descriptions are written from what the segments hold.
/// </summary>
public sealed class SegmentedTrack
{
    public const string InitName = "init.mp4";
    public const string MediaPlaylistName = "media.m3u8";

    /// <summary>The printf pattern ffmpeg's hls muxer names segments with; <see cref="SegmentName"/> says the same.</summary>
    public const string SegmentPattern = "seg-%05d.m4s";

    /// <summary>The same name as a DASH SegmentTemplate.</summary>
    public const string SegmentTemplate = "seg-$Number%05d$.m4s";

    public static string SegmentName(int number) => string.Create(CultureInfo.InvariantCulture, $"seg-{number:00000}.m4s");

    private SegmentedTrack(string directory, Fmp4Init init, IReadOnlyList<TrackSegment> segments)
    {
        Directory = directory;
        Init = init;
        Segments = segments;
    }

    public string Directory { get; }
    public Fmp4Init Init { get; }
    public IReadOnlyList<TrackSegment> Segments { get; }

    public double Seconds(ulong ticks) => (double)ticks / Init.Timescale;
    public double StartSeconds => Seconds(Segments[0].Fragment.DecodeTime);
    public double EndSeconds => Seconds(Segments[^1].Fragment.End);

    /// <summary>Bits per second of the busiest segment: what HLS calls BANDWIDTH.</summary>
    public long PeakBitsPerSecond => Segments.Max(s => (long)Math.Ceiling(s.Fragment.Bytes * 8 / Math.Max(Seconds(s.Fragment.Duration), 0.001)));

    public long AverageBitsPerSecond => (long)Math.Ceiling(Segments.Sum(s => s.Fragment.Bytes) * 8 / Math.Max(EndSeconds - StartSeconds, 0.001));

    /// <summary>How many segments, counting from 1, are complete in <paramref name="directory"/> (a half-written one has another name).</summary>
    public static int CompleteSegments(string directory)
    {
        var count = 0;
        while (File.Exists(Path.Combine(directory, SegmentName(count + 1)))) count++;
        return count;
    }

    /// <summary>Reads a track and checks it holds together: an init segment, segments from 1 with no gap in their numbers or time.</summary>
    public static SegmentedTrack Read(string directory)
    {
        var initPath = Path.Combine(directory, InitName);
        if (!File.Exists(initPath)) throw new InvalidDataException($"track '{Path.GetFileName(directory)}' has no {InitName}");
        var init = Fmp4Boxes.ReadInit(initPath);
        var count = CompleteSegments(directory);
        if (count == 0) throw new InvalidDataException($"track '{Path.GetFileName(directory)}' has no segments");
        var segments = new List<TrackSegment>(count);
        for (var n = 1; n <= count; n++)
        {
            var segment = new TrackSegment(n, Fmp4Boxes.ReadFragment(Path.Combine(directory, SegmentName(n))));
            if (segments.Count > 0 && !Follows(segments[^1].Fragment, segment.Fragment, init.Timescale))
                throw new InvalidDataException(
                    $"track '{Path.GetFileName(directory)}': {segment.FileName} starts at {segment.Fragment.DecodeTime} where {segments[^1].FileName} ended at {segments[^1].Fragment.End}");
            segments.Add(segment);
        }
        return new SegmentedTrack(directory, init, segments);
    }

    /// <summary>
    /// Whether <paramref name="next"/> starts where <paramref name="previous"/> ended. A resumed encode's seek lands
    /// within a sample or two of the exact point (ffmpeg rounds between time bases), which no player notices; a
    /// missing or repeated segment is a whole segment off.
    /// </summary>
    public static bool Follows(Fmp4Fragment previous, Fmp4Fragment next, uint timescale) =>
        Math.Abs((double)next.DecodeTime - previous.End) <= Math.Max(2, timescale / 1000.0);

    /// <summary>
    /// Checks that the video tracks of a ladder can be switched between at every segment: the same number of segments,
    /// each starting at the same time in every track.
    /// </summary>
    public static void CheckAligned(IReadOnlyList<SegmentedTrack> videos)
    {
        var first = videos[0];
        foreach (var other in videos.Skip(1))
        {
            if (other.Segments.Count != first.Segments.Count)
                throw new InvalidDataException($"track '{Path.GetFileName(other.Directory)}' has {other.Segments.Count} segments where '{Path.GetFileName(first.Directory)}' has {first.Segments.Count}");
            for (var i = 0; i < first.Segments.Count; i++)
            {
                var (a, b) = (first.Seconds(first.Segments[i].Fragment.DecodeTime), other.Seconds(other.Segments[i].Fragment.DecodeTime));
                if (Math.Abs(a - b) > 0.001)
                    throw new InvalidDataException($"segment {i + 1} starts at {a:0.###} s in '{Path.GetFileName(first.Directory)}' but at {b:0.###} s in '{Path.GetFileName(other.Directory)}'");
            }
        }
    }

    /// <summary>The track's HLS media playlist (fMP4 segments, version 7), naming files relative to its folder.</summary>
    public string MediaPlaylist()
    {
        var text = new StringBuilder();
        var target = (int)Math.Ceiling(Segments.Max(s => Seconds(s.Fragment.Duration)) - 0.0005);
        text.Append("#EXTM3U\n#EXT-X-VERSION:7\n")
            .Append(CultureInfo.InvariantCulture, $"#EXT-X-TARGETDURATION:{Math.Max(1, target)}\n")
            .Append("#EXT-X-MEDIA-SEQUENCE:1\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-INDEPENDENT-SEGMENTS\n")
            .Append(CultureInfo.InvariantCulture, $"#EXT-X-MAP:URI=\"{InitName}\"\n");
        foreach (var segment in Segments)
            text.Append(CultureInfo.InvariantCulture, $"#EXTINF:{Seconds(segment.Fragment.Duration):0.000000},\n{segment.FileName}\n");
        return text.Append("#EXT-X-ENDLIST\n").ToString();
    }

    /// <summary>Writes <see cref="MediaPlaylist"/> into the track's folder (whole or not at all).</summary>
    public void WriteMediaPlaylist() => WriteWhole(Path.Combine(Directory, MediaPlaylistName), MediaPlaylist());

    /// <summary>Writes a text file under a temporary name and renames it into place, so a reader never sees half of it.</summary>
    internal static void WriteWhole(string path, string text)
    {
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, text);
        File.Move(temporary, path, overwrite: true);
    }
}
