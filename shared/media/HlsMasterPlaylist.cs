using System.Text;

namespace Vidline.Media;

/// <summary>One <c>#EXT-X-STREAM-INF</c> entry: its attributes (values as written, quotes kept) and URI.</summary>
public sealed class HlsVariant(List<KeyValuePair<string, string>> attributes, string uri)
{
    public string Uri { get; } = uri;

    internal List<KeyValuePair<string, string>> Attributes { get; } = attributes;

    /// <summary>The attribute's value without surrounding quotes, or null when absent.</summary>
    public string? this[string name] =>
        Attributes.FirstOrDefault(a => a.Key == name) is { Key: not null } a ? a.Value.Trim('"') : null;

    internal string Render() => "#EXT-X-STREAM-INF:" + string.Join(",", Attributes.Select(a => $"{a.Key}={a.Value}"));
}

/// <summary>
/// An HLS master playlist, read closely enough to check the variant attributes players need to pick a variant
/// (BANDWIDTH, RESOLUTION, CODECS). Other lines pass through untouched.
/// </summary>
public sealed class HlsMasterPlaylist
{
    public static readonly string[] RequiredAttributes = ["BANDWIDTH", "RESOLUTION", "CODECS"];

    // Each entry is either a plain line or a variant (which renders as its tag line plus URI line).
    private readonly List<object> _entries = [];

    public IReadOnlyList<HlsVariant> Variants => _entries.OfType<HlsVariant>().ToList();

    public static HlsMasterPlaylist Parse(string text)
    {
        var playlist = new HlsMasterPlaylist();
        var lines = text.Replace("\r\n", "\n").Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            if (!line.StartsWith("#EXT-X-STREAM-INF:", StringComparison.Ordinal)) { playlist._entries.Add(line); continue; }

            // The URI is the next line that is neither blank nor a tag.
            var j = i + 1;
            while (j < lines.Length && (lines[j].Trim().Length == 0 || lines[j].StartsWith('#'))) j++;
            if (j >= lines.Length) throw new FormatException("EXT-X-STREAM-INF without a URI.");
            for (var k = i + 1; k < j; k++) playlist._entries.Add(lines[k]);
            playlist._entries.Add(new HlsVariant(ParseAttributes(line["#EXT-X-STREAM-INF:".Length..]), lines[j].Trim()));
            i = j;
        }
        return playlist;
    }

    /// <summary>Required attributes each variant lacks, as "uri: NAME" strings; empty when complete.</summary>
    public IReadOnlyList<string> Problems() =>
        Variants.Count == 0
            ? ["no variants"]
            : Variants.SelectMany(v => RequiredAttributes.Where(a => v[a] is null or "").Select(a => $"{v.Uri}: {a}")).ToList();

    public override string ToString()
    {
        var text = new StringBuilder();
        var lines = _entries.Select(e => e is HlsVariant v ? v.Render() + "\n" + v.Uri : (string)e).ToList();
        // Keep exactly one trailing newline however the source ended.
        while (lines.Count > 0 && lines[^1].Length == 0) lines.RemoveAt(lines.Count - 1);
        foreach (var line in lines) text.Append(line).Append('\n');
        return text.ToString();
    }

    /// <summary>Splits "A=1,B=\"x,y\"" on commas outside quotes.</summary>
    private static List<KeyValuePair<string, string>> ParseAttributes(string list)
    {
        var result = new List<KeyValuePair<string, string>>();
        var start = 0;
        var quoted = false;
        for (var i = 0; i <= list.Length; i++)
        {
            if (i < list.Length && list[i] == '"') quoted = !quoted;
            if (i < list.Length && (list[i] != ',' || quoted)) continue;
            var item = list[start..i];
            var eq = item.IndexOf('=');
            if (eq > 0) result.Add(new(item[..eq].Trim(), item[(eq + 1)..].Trim()));
            start = i + 1;
        }
        return result;
    }
}
