using System.Globalization;
using System.Text.Json;

namespace Vidline.Media;

/// <summary>
/// Fields of ffprobe's JSON, which prints numbers sometimes as numbers and sometimes as strings ("N/A" when unknown).
/// Anything missing or unparsable reads as null.
/// </summary>
internal static class FfprobeFields
{
    public static string? Text(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var p)
            ? p.ValueKind == JsonValueKind.String ? p.GetString() : p.GetRawText()
            : null;

    public static double? Number(JsonElement element, string name) =>
        double.TryParse(Text(element, name), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d) ? d : null;

    public static int? Int(JsonElement element, string name) =>
        int.TryParse(Text(element, name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? i : null;

    public static long? Long(JsonElement element, string name) =>
        long.TryParse(Text(element, name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) ? l : null;
}
