namespace Vidline.Media.Storage;

/// <summary>
/// Where files live between stages, addressed by key ("uploads/{job}/source", "work/{job}/renditions/720p.mp4",
/// "outputs/{job}/master.m3u8"). Messages carry keys, never node-local paths, so an object store could stand in.
/// </summary>
public interface IMediaStore
{
    /// <summary>Streams <paramref name="content"/> to <paramref name="key"/> without buffering it whole; returns bytes written.</summary>
    Task<long> WriteAsync(string key, Stream content, IProgress<long>? progress, CancellationToken cancellationToken);

    /// <summary>A local file path for ffmpeg to read or write the object at <paramref name="key"/>.</summary>
    string PathFor(string key);

    bool Exists(string key);

    /// <summary>Bytes free for new objects (what the volume has for this process), or null when the store cannot tell.</summary>
    long? AvailableBytes();

    /// <summary>
    /// Moves every object under <paramref name="fromPrefix"/> to <paramref name="toPrefix"/> in one atomic rename,
    /// replacing what is there: readers see the old set or the new one, never a mix or half.
    /// </summary>
    Task MovePrefixAsync(string fromPrefix, string toPrefix, CancellationToken cancellationToken);

    /// <summary>The prefixes directly under <paramref name="prefix"/> ("work/j/renditions" → "work/j/renditions/attempt-3"…); none when it holds nothing.</summary>
    IReadOnlyList<string> PrefixesUnder(string prefix);

    /// <summary>Removes every object under <paramref name="prefix"/>; nothing there is fine.</summary>
    Task DeletePrefixAsync(string prefix, CancellationToken cancellationToken);
}

public sealed class StorageOptions
{
    /// <summary>Root folder of the file-system store (section <c>Storage</c>, <c>Storage__Root</c>).</summary>
    public string Root { get; set; } = Path.Combine(AppContext.BaseDirectory, "storage");
}

/// <summary>Well-known keys, so every stage agrees where a job's files are.</summary>
public static class StorageKeys
{
    public static string Source(Guid jobId) => $"uploads/{jobId:N}/source";
    public static string Uploads(Guid jobId) => $"uploads/{jobId:N}";
    public static string Renditions(Guid jobId) => $"work/{jobId:N}/renditions";
    public static string Package(Guid jobId) => $"work/{jobId:N}/package";
    public static string Work(Guid jobId) => $"work/{jobId:N}";
    public static string Outputs(Guid jobId) => $"outputs/{jobId:N}";

    /// <summary>Where an attempt writes what it will publish under <paramref name="prefix"/> by <see cref="IMediaStore.MovePrefixAsync"/>.</summary>
    public static string Partial(string prefix) => prefix + ".partial";

    /// <summary>The edge serves <c>outputs/</c> at <c>/outputs/</c>.</summary>
    public static string PublicUrl(string key) => "/" + key;
}
