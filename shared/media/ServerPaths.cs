using System.Text.RegularExpressions;

namespace Vidline.Media;

/// <summary>
/// ffmpeg, .NET and our own checks name the files they fail on by absolute path (the storage root, a job's attempt
/// folder, a segment the HLS demuxer could not open). A job's error is read by its owner: it keeps each file's name and
/// drops the server's folders.
/// </summary>
public static partial class ServerPaths
{
    public static string Hidden(string text) =>
        AbsolutePath().Replace(text, path => path.Value.TrimEnd('/')[(path.Value.TrimEnd('/').LastIndexOf('/') + 1)..]);

    /// <summary>Two or more folder steps from the root ("/srv/x", "/a/b/seg.m4s"), not part of a URL, a ratio or a relative key.</summary>
    [GeneratedRegex(@"(?<![\w.:/~%-])(?:/[^\s'""`,;:()<>\[\]{}|/]+){2,}/?")]
    private static partial Regex AbsolutePath();
}
