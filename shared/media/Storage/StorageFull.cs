namespace Vidline.Media.Storage;

/// <summary>Whether a write failed because the volume is full.</summary>
public static class StorageFull
{
    /// <summary>ENOSPC as .NET reports it on Linux (the errno), and ERROR_DISK_FULL / ERROR_HANDLE_DISK_FULL elsewhere.</summary>
    private static readonly int[] DiskFullResults = [28, unchecked((int)0x80070070), unchecked((int)0x80070027)];

    /// <summary>Less room than this left on a volume: a write of a segment there may have been refused.</summary>
    public const long NearlyFullBytes = 16L << 20;

    public static bool Is(Exception e) => e is IOException io && DiskFullResults.Contains(io.HResult);

    /// <summary>
    /// ENOSPC, for output a program cut short without saying so. ffmpeg 5.1's hls muxer ignores a refused write and
    /// exits 0, leaving segments and init segments truncated: on a (nearly) full volume that is why they are broken.
    /// </summary>
    public static IOException? Explains(string folder, InvalidDataException broken)
    {
        long available;
        try { available = new DriveInfo(Path.GetFullPath(folder)).AvailableFreeSpace; }
        catch (IOException) { return null; }
        return available < NearlyFullBytes
            ? new IOException($"No space left on device: the encoder's output was cut short ({broken.Message})", DiskFullResults[0])
            : null;
    }
}
