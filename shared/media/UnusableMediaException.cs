namespace Vidline.Media;

/// <summary>The file is not something we can transcode. <c>Reason</c> is written for the uploader.</summary>
public sealed class UnusableMediaException(string reason, Exception? inner = null) : Exception(reason, inner)
{
    public string Reason { get; } = reason;
}
