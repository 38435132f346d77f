namespace Vidline.IngestApi.Uploads;

/// <summary>Section <c>Upload</c>.</summary>
public sealed class UploadOptions
{
    /// <summary>Largest accepted upload body; the file streams to storage, so memory use does not grow with it.</summary>
    public long MaxBytes { get; set; } = 8L * 1024 * 1024 * 1024;

    /// <summary>
    /// Free space storage keeps beyond an upload: an upload that would leave less (its Content-Length counted) is
    /// refused with 507 before anything is stored, so the stages after it still have room to work.
    /// </summary>
    public long StorageReserveBytes { get; set; } = 1024L * 1024 * 1024;

    public int MaxKeyLength { get; set; } = 512;

    /// <summary>Minimum time between two upload progress events for one job.</summary>
    public TimeSpan ProgressInterval { get; set; } = TimeSpan.FromMilliseconds(500);
}
