namespace Vidline.Media.Storage;

/// <summary>Whether a write failed because the volume is full.</summary>
public static class StorageFull
{
    /// <summary>ENOSPC as .NET reports it on Linux (the errno), and ERROR_DISK_FULL / ERROR_HANDLE_DISK_FULL elsewhere.</summary>
    private static readonly int[] DiskFullResults = [28, unchecked((int)0x80070070), unchecked((int)0x80070027)];

    public static bool Is(Exception e) => e is IOException io && DiskFullResults.Contains(io.HResult);
}
