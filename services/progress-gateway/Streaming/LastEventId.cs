using System.Globalization;

namespace Vidline.ProgressGateway.Streaming;

/// <summary>
/// Where a reconnecting client left off. Browsers send the <c>Last-Event-ID</c> header themselves; the
/// <c>?lastEventId=</c> query fallback is for clients that cannot set headers (and for a first connect
/// that wants to start from a known point).
/// </summary>
public static class LastEventId
{
    public const string Header = "Last-Event-ID";
    public const string Query = "lastEventId";

    public const string Malformed = "Last-Event-ID (or ?lastEventId=) must be the id of an event a stream sent: a whole number, 0 or more.";

    /// <summary>
    /// The header wins; neither given (or only empty ones) is a fresh start. Every id a stream sends is a whole number,
    /// so any other value is refused (false) rather than taken as a fresh start that would replay a whole history.
    /// </summary>
    public static bool TryParse(string? header, string? query, out long? id)
    {
        var given = (string.IsNullOrWhiteSpace(header) ? query : header)?.Trim();
        id = null;
        if (string.IsNullOrEmpty(given)) return true;
        // Digits only: long.TryParse alone would take "1\0" (it ignores trailing NULs).
        if (!given.All(char.IsAsciiDigit) || !long.TryParse(given, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
            return false;
        id = parsed;
        return true;
    }

    public static bool TryRead(HttpRequest request, out long? id) =>
        TryParse(request.Headers[Header].FirstOrDefault(), request.Query[Query].FirstOrDefault(), out id);
}
