using System.Buffers.Binary;
using System.Globalization;

namespace Vidline.Media;

/// <summary>
/// What an fMP4 init segment says about its one track: the clock its segments count in, the codec string players need,
/// and its whole sample description (hex of the stsd entry: avcC/esds and all), which says whether another encoder's
/// segments can be decoded with this init.
/// </summary>
public sealed record Fmp4Init(uint Timescale, string Codecs, string SampleDescription);

/// <summary>One fMP4 media segment of one track: where it starts on the track's clock, how long it lasts, its frames and size.</summary>
public sealed record Fmp4Fragment(ulong DecodeTime, ulong Duration, int Samples, long Bytes)
{
    public ulong End => DecodeTime + Duration;
}

/// <summary>
/// Reads the few ISO-BMFF boxes the manifests are made from (mdhd, avcC, esds in an init segment; tfdt, trun in a media
/// segment). The manifests describe the segments from what the segments hold, not from what an encoder meant to write.
/// </summary>
public static class Fmp4Boxes
{
    private static readonly HashSet<string> Containers = ["moov", "trak", "mdia", "minf", "stbl", "moof", "traf", "mvex"];

    public static Fmp4Init ReadInit(string path) => Truncated(path, () => InitOf(path));

    public static Fmp4Fragment ReadFragment(string path) => Truncated(path, () => FragmentOf(path));

    /// <summary>A file cut short reads past its end somewhere: that is bad data, said as such.</summary>
    private static T Truncated<T>(string path, Func<T> read)
    {
        try { return read(); }
        catch (Exception e) when (e is ArgumentOutOfRangeException or IndexOutOfRangeException or EndOfStreamException or ArgumentException)
        {
            throw new InvalidDataException($"{Path.GetFileName(path)} is cut short or malformed.", e);
        }
    }

    private static Fmp4Init InitOf(string path)
    {
        var bytes = File.ReadAllBytes(path);
        uint? timescale = null;
        string? codecs = null;
        var description = "";
        foreach (var (type, body) in Walk(bytes, 0, bytes.Length))
        {
            if (type == "mdhd") timescale = BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(body + (bytes[body] == 1 ? 20 : 12)));
            else if (type == "stsd") (codecs, description) = (CodecsOf(bytes, body), Convert.ToHexString(bytes, body + 8, EntryEnd(bytes, body) - body - 8));
        }
        if (timescale is not > 0 || codecs is null) throw new InvalidDataException($"{Path.GetFileName(path)} is not an fMP4 init segment of one audio or video track.");
        return new Fmp4Init(timescale.Value, codecs, description);
    }

    private static Fmp4Fragment FragmentOf(string path)
    {
        var (bytes, length) = HeadOf(path);
        ulong? decodeTime = null;
        ulong duration = 0;
        uint defaultDuration = 0;
        var samples = 0;
        foreach (var (type, body) in Walk(bytes, 0, bytes.Length))
        {
            switch (type)
            {
                case "tfhd":
                    defaultDuration = DefaultSampleDuration(bytes, body);
                    break;
                case "tfdt":
                    decodeTime = bytes[body] == 1
                        ? BinaryPrimitives.ReadUInt64BigEndian(bytes.AsSpan(body + 4))
                        : BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(body + 4));
                    break;
                case "trun":
                    var (count, total) = RunDuration(bytes, body, defaultDuration);
                    samples += count;
                    duration += total;
                    break;
            }
        }
        if (decodeTime is null || samples == 0) throw new InvalidDataException($"{Path.GetFileName(path)} is not an fMP4 media segment.");
        return new Fmp4Fragment(decodeTime.Value, duration, samples, length);
    }

    /// <summary>The top-level boxes before the media data (a segment's index and moof), and the file's length: the pictures themselves are not read.</summary>
    private static (byte[] Head, long Length) HeadOf(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 14);
        var head = new MemoryStream();
        var header = new byte[16];
        while (file.Position + 8 <= file.Length)
        {
            file.ReadExactly(header, 0, 8);
            long size = BinaryPrimitives.ReadUInt32BigEndian(header);
            var type = System.Text.Encoding.ASCII.GetString(header, 4, 4);
            if (type == "mdat") break;
            var headerLength = 8;
            if (size == 1) { file.ReadExactly(header, 8, 8); size = (long)BinaryPrimitives.ReadUInt64BigEndian(header.AsSpan(8)); headerLength = 16; }
            if (size < headerLength || file.Position - headerLength + size > file.Length || size > 1 << 26)
                throw new InvalidDataException($"{Path.GetFileName(path)}: box '{type}' runs past the end of the file.");
            var box = new byte[size];
            header.AsSpan(0, headerLength).CopyTo(box);
            file.ReadExactly(box, headerLength, (int)size - headerLength);
            head.Write(box);
        }
        return (head.ToArray(), file.Length);
    }

    /// <summary>Every box, depth first, as (type, offset of its body), descending into the containers named above.</summary>
    private static IEnumerable<(string Type, int Body)> Walk(byte[] bytes, int start, int end)
    {
        var at = start;
        while (at + 8 <= end)
        {
            long size = BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(at));
            var type = System.Text.Encoding.ASCII.GetString(bytes, at + 4, 4);
            var header = 8;
            if (size == 1) { size = (long)BinaryPrimitives.ReadUInt64BigEndian(bytes.AsSpan(at + 8)); header = 16; }
            else if (size == 0) size = end - at;
            if (size < header || at + size > end) throw new InvalidDataException($"box '{type}' runs past the end of its file.");
            yield return (type, at + header);
            if (Containers.Contains(type))
                foreach (var inner in Walk(bytes, at + header, (int)(at + size))) yield return inner;
            at += (int)size;
        }
    }

    private static uint DefaultSampleDuration(byte[] bytes, int body)
    {
        var flags = ReadFlags(bytes, body);
        var at = body + 8; // version+flags, track id
        if ((flags & 0x1) != 0) at += 8; // base data offset
        if ((flags & 0x2) != 0) at += 4; // sample description index
        return (flags & 0x8) != 0 ? BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(at)) : 0;
    }

    private static (int Count, ulong Total) RunDuration(byte[] bytes, int body, uint defaultDuration)
    {
        var flags = ReadFlags(bytes, body);
        var count = (int)BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(body + 4));
        var at = body + 8;
        if ((flags & 0x1) != 0) at += 4; // data offset
        if ((flags & 0x4) != 0) at += 4; // first sample flags
        ulong total = 0;
        for (var i = 0; i < count; i++)
        {
            if ((flags & 0x100) != 0) { total += BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(at)); at += 4; }
            else total += defaultDuration;
            if ((flags & 0x200) != 0) at += 4;
            if ((flags & 0x400) != 0) at += 4;
            if ((flags & 0x800) != 0) at += 4;
        }
        return (count, total);
    }

    private static uint ReadFlags(byte[] bytes, int body) => BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(body)) & 0xFFFFFF;

    /// <summary>The RFC 6381 codec string of the first sample entry: avc1.PPCCLL for H.264, mp4a.40.N for AAC.</summary>
    /// <summary>Where the first sample entry of an stsd box ends (it starts after version+flags and the entry count).</summary>
    private static int EntryEnd(byte[] bytes, int stsdBody) =>
        stsdBody + 8 + (int)BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(stsdBody + 8));

    private static string? CodecsOf(byte[] bytes, int stsdBody)
    {
        var entry = stsdBody + 8; // version+flags, entry count
        var type = System.Text.Encoding.ASCII.GetString(bytes, entry + 4, 4);
        var entryEnd = EntryEnd(bytes, stsdBody);
        // Child boxes follow the sample entry's fixed fields: 78 bytes for video, 28 for audio (after the 8-byte header).
        var children = entry + 8 + (type is "avc1" or "avc3" ? 78 : 28);
        foreach (var (child, body) in Walk(bytes, children, entryEnd))
        {
            if (child == "avcC")
                return string.Create(CultureInfo.InvariantCulture, $"{type}.{bytes[body + 1]:x2}{bytes[body + 2]:x2}{bytes[body + 3]:x2}");
            if (child == "esds") return $"mp4a.40.{AudioObjectType(bytes, body + 4, entryEnd)}";
        }
        return null;
    }

    /// <summary>The AAC object type from the DecoderSpecificInfo (tag 5) inside an esds; 2 (AAC-LC) when it says nothing.</summary>
    private static int AudioObjectType(byte[] bytes, int at, int end)
    {
        while (at < end)
        {
            var tag = bytes[at++];
            var length = 0;
            for (var i = 0; i < 4 && at < end; i++)
            {
                var b = bytes[at++];
                length = (length << 7) | (b & 0x7F);
                if ((b & 0x80) == 0) break;
            }
            switch (tag)
            {
                case 3: at += 3; break; // ES descriptor: id and flags, then nested descriptors (no optional fields from ffmpeg)
                case 4: at += 13; break; // decoder config: fixed fields, then the specific info
                case 5: return at < end ? bytes[at] >> 3 : 2;
                default: at += length; break;
            }
        }
        return 2;
    }
}
