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

    /// <summary>The header wins; a value that is not a non-negative integer counts as absent (fresh start).</summary>
    public static long? Parse(string? header, string? query) => ParseOne(header) ?? ParseOne(query);

    public static long? From(HttpRequest request) =>
        Parse(request.Headers[Header].FirstOrDefault(), request.Query[Query].FirstOrDefault());

    private static long? ParseOne(string? value) =>
        long.TryParse(value?.Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id) ? id : null;
}
