using System.Globalization;

namespace Vidline.Media;

/// <summary>
/// Where an encode resumes: after <c>Segments</c> complete segments in every track, at <c>VideoSeconds</c> of the source for
/// the picture and <c>AudioSeconds</c> for the sound (each track's segments end where they end: sound is cut on whole AAC
/// frames, not on the picture's keyframes). Zero segments: from the start.
/// </summary>
public sealed record EncodeResume(int Segments, double VideoSeconds, double AudioSeconds)
{
    public static readonly EncodeResume FromStart = new(0, 0, 0);

    public bool IsResumed => Segments > 0;
}

/// <summary>A resumed encode wrote a stream its earlier segments cannot be played with (another sample description).</summary>
public sealed class ResumeMismatchException(string message) : Exception(message);

/// <summary>
/// The folder a ladder encode writes: one sub-folder per rung (named after it) and one, <c>audio</c>, for the one sound
/// track every rung shares, each a <see cref="SegmentedTrack"/>; and <c>encode.txt</c>, the encoder's arguments (without
/// paths), which say what the segments were made with. Complete segments outlive an interrupted encode: a new encode
/// with the same arguments into the same folder goes on after the last segment complete in every track.
/// </summary>
public sealed class LadderFolder(string directory, IReadOnlyList<string> trackNames)
{
    public const string AudioTrack = "audio";
    public const string EncodeRecordName = "encode.txt";

    /// <summary>What ffmpeg's hls muxer names its own files in a track folder; they are replaced by ours when the encode ends.</summary>
    public const string EncoderPlaylistName = "encoder.m3u8";
    public const string EncoderInitName = "encoder-init-%v.mp4";

    /// <summary>
    /// Every track's timeline starts this many seconds in, on every attempt. An encoder's first timestamps can be
    /// negative (B-frame reordering, AAC priming), which the muxer would shift by an amount that depends on the content;
    /// starting the timeline later keeps every timestamp positive, so a resumed encode lands exactly where the first left
    /// off. Manifests say where the presentation starts; ffmpeg reads a track from its first timestamp.
    /// </summary>
    public const double TimelineStartSeconds = 10;

    /// <summary>Samples in one AAC frame, which is also the priming ffmpeg's AAC encoder starts with.</summary>
    private const int AacFrameSamples = 1024;

    public string Directory { get; } = Path.GetFullPath(directory);

    public string TrackDirectory(string track) => Path.Combine(Directory, track);

    public string MediaPlaylist(string track) => Path.Combine(TrackDirectory(track), SegmentedTrack.MediaPlaylistName);

    /// <summary>
    /// Finds where an encode with <paramref name="encodeRecord"/> can go on, and clears what it cannot use: everything
    /// when the folder was written by another encode; otherwise the half-written files and any segment past the point
    /// every track reached.
    /// </summary>
    public EncodeResume Prepare(string encodeRecord, double keyframeIntervalSeconds)
    {
        var recordPath = Path.Combine(Directory, EncodeRecordName);
        foreach (var track in trackNames.Where(t => System.IO.Directory.Exists(TrackDirectory(t)))) DiscardEncoderLeftovers(TrackDirectory(track));
        var segments = File.Exists(recordPath) && File.ReadAllText(recordPath) == encodeRecord
            ? trackNames.Min(t => File.Exists(Path.Combine(TrackDirectory(t), SegmentedTrack.InitName)) ? SegmentedTrack.CompleteSegments(TrackDirectory(t)) : 0)
            : 0;
        if (segments > 0 && GoOnAfter(segments, keyframeIntervalSeconds) is { } resume) return resume;

        if (System.IO.Directory.Exists(Directory)) System.IO.Directory.Delete(Directory, recursive: true);
        foreach (var track in trackNames) System.IO.Directory.CreateDirectory(TrackDirectory(track));
        SegmentedTrack.WriteWhole(recordPath, encodeRecord);
        return EncodeResume.FromStart;
    }

    /// <summary>Keeps the first <paramref name="segments"/> of every track, if they hold together (else null: start again).</summary>
    private EncodeResume? GoOnAfter(int segments, double keyframeIntervalSeconds)
    {
        foreach (var track in trackNames)
        {
            var folder = TrackDirectory(track);
            for (var n = segments + 1; File.Exists(Path.Combine(folder, SegmentedTrack.SegmentName(n))); n++)
                File.Delete(Path.Combine(folder, SegmentedTrack.SegmentName(n)));
        }
        try
        {
            var tracks = trackNames.ToDictionary(t => t, t => SegmentedTrack.Read(TrackDirectory(t)));
            var pictures = tracks.Where(t => t.Key != AudioTrack).Select(t => t.Value).ToList();
            SegmentedTrack.CheckAligned(pictures);
            // The picture goes on where its n-th segment actually ended (the rungs agree): a keyframe lands on the first
            // frame at or after n×k, which is later than n×k when frames miss the grid (23.976 fps, variable rates). The
            // seek point is rounded down to what the argument can say, so that frame is never sought past.
            var pictureEnd = Math.Floor((pictures[0].EndSeconds - TimelineStartSeconds) * 1e6) / 1e6;
            // The sound goes on exactly where its last segment ended. The AAC encoder starts with one frame of priming,
            // which lands there; the source is sought one frame later, so each sound keeps its place on the timeline.
            var audio = tracks.GetValueOrDefault(AudioTrack);
            return new EncodeResume(segments, pictureEnd,
                audio is null ? 0 : audio.EndSeconds - TimelineStartSeconds + AacFrameSamples / (double)audio.Init.Timescale);
        }
        catch (InvalidDataException)
        {
            return null;
        }
    }

    /// <summary>
    /// Makes a fresh folder at <paramref name="directory"/> hold what an earlier attempt's folder can be gone on from:
    /// <c>encode.txt</c>, each track's init segment and its complete segments from 1, as hard links (the same bytes),
    /// never the earlier folder itself. A stale encoder may still be writing there: once the earlier folder is removed,
    /// its open files are unlinked ones, and nothing it writes (by descriptor or by path) lands in the new folder.
    /// </summary>
    public static void CarryOver(string earlierDirectory, string directory)
    {
        if (System.IO.Directory.Exists(directory)) System.IO.Directory.Delete(directory, recursive: true);
        System.IO.Directory.CreateDirectory(directory);
        if (!System.IO.Directory.Exists(earlierDirectory)) return;
        var record = Path.Combine(earlierDirectory, EncodeRecordName);
        if (File.Exists(record)) SameBytes.Link(record, Path.Combine(directory, EncodeRecordName));
        foreach (var earlier in System.IO.Directory.EnumerateDirectories(earlierDirectory))
        {
            var folder = System.IO.Directory.CreateDirectory(Path.Combine(directory, Path.GetFileName(earlier))).FullName;
            // A killed attempt never adopted its encoder's init segment: it is carried over if it is whole.
            var init = Path.Combine(earlier, SegmentedTrack.InitName);
            if (!File.Exists(init) && EncoderInit(earlier) is { } written && IsWholeInit(written)) init = written;
            if (!File.Exists(init)) continue;
            SameBytes.Link(init, Path.Combine(folder, SegmentedTrack.InitName));
            for (var n = 1; n <= SegmentedTrack.CompleteSegments(earlier); n++)
                SameBytes.Link(Path.Combine(earlier, SegmentedTrack.SegmentName(n)), Path.Combine(folder, SegmentedTrack.SegmentName(n)));
        }
    }

    /// <summary>
    /// Half-written segments and playlists (ffmpeg writes them under a temporary name) and the encoder's own playlists go;
    /// its init segment becomes the track's if the track has none yet.
    /// </summary>
    public void DiscardEncoderLeftovers()
    {
        foreach (var track in trackNames)
            if (System.IO.Directory.Exists(TrackDirectory(track))) DiscardEncoderLeftovers(TrackDirectory(track));
    }

    private static void DiscardEncoderLeftovers(string folder)
    {
        AdoptEncoderInit(folder);
        foreach (var file in System.IO.Directory.EnumerateFiles(folder))
        {
            var name = Path.GetFileName(file);
            if (name.EndsWith(".tmp", StringComparison.Ordinal) || name.StartsWith("encoder", StringComparison.Ordinal)) File.Delete(file);
        }
    }

    /// <summary>
    /// After the encoder finished: keeps the first attempt's init segment (a resumed encoder writes an identical one),
    /// reads every track back, checks the rungs line up, and writes each track's media playlist.
    /// </summary>
    public IReadOnlyList<SegmentedTrack> Finish()
    {
        var tracks = new List<SegmentedTrack>();
        foreach (var track in trackNames)
        {
            var folder = TrackDirectory(track);
            AdoptEncoderInit(folder);
            if (EncoderInit(folder) is { } written && Fmp4Boxes.ReadInit(written) != Fmp4Boxes.ReadInit(Path.Combine(folder, SegmentedTrack.InitName)))
            {
                // Nothing here can be gone on from: the next encode starts from zero rather than publish these segments.
                File.Delete(Path.Combine(Directory, EncodeRecordName));
                throw new ResumeMismatchException($"track '{track}': the resumed encode's stream does not match the earlier segments'");
            }
            DiscardEncoderLeftovers(folder);
            var read = SegmentedTrack.Read(folder);
            read.WriteMediaPlaylist();
            tracks.Add(read);
        }
        SegmentedTrack.CheckAligned(tracks.Where((_, i) => trackNames[i] != AudioTrack).ToList());
        return tracks;
    }

    /// <summary>The encoder's init segment becomes the track's, unless the track has one: the first attempt's stays.</summary>
    private static void AdoptEncoderInit(string folder)
    {
        var init = Path.Combine(folder, SegmentedTrack.InitName);
        if (File.Exists(init) || EncoderInit(folder) is not { } written || !IsWholeInit(written)) return;
        File.Move(written, init);
    }

    /// <summary>An init segment cut short by a kill does not read; the next encode writes it again.</summary>
    private static bool IsWholeInit(string path)
    {
        try { Fmp4Boxes.ReadInit(path); return true; }
        catch (InvalidDataException) { return false; }
    }

    /// <summary>The hls muxer appends the stream's index to the init segment's name when there are several streams.</summary>
    private static string? EncoderInit(string folder) =>
        System.IO.Directory.EnumerateFiles(folder, "encoder-init*.mp4").FirstOrDefault();

    /// <summary>The hls muxer's name pattern for the files of every track (<c>%v</c> is the track's name).</summary>
    public string EncoderPattern(string fileName) => Path.Combine(Directory, "%v", fileName);

    public static string Seconds(double seconds) => seconds.ToString("0.######", CultureInfo.InvariantCulture);
}
