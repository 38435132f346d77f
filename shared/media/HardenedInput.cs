namespace Vidline.Media;

/// <summary>
/// The only way our argument builders name an input. The protocol whitelist keeps a crafted
/// playlist (HLS, DASH, concat) from making ffmpeg fetch URLs or use protocol tricks; ffmpeg
/// applies it to every nested open, so only plain local files and pipes remain reachable.
/// </summary>
public static class HardenedInput
{
    public const string ProtocolWhitelist = "file,pipe";

    public static void AddTo(List<string> arguments, string path)
    {
        arguments.Add("-protocol_whitelist");
        arguments.Add(ProtocolWhitelist);
        arguments.Add("-i");
        arguments.Add(path);
    }

    /// <summary>True when every <c>-i</c> is directly preceded by the whitelist.</summary>
    public static bool IsHardened(IReadOnlyList<string> arguments)
    {
        for (var i = 0; i < arguments.Count; i++)
        {
            if (arguments[i] != "-i") continue;
            if (i < 2 || arguments[i - 2] != "-protocol_whitelist" || arguments[i - 1] != ProtocolWhitelist)
                return false;
        }
        return true;
    }
}
