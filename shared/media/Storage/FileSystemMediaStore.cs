using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;

namespace Vidline.Media.Storage;

/// <summary>The default store: a folder shared by every node (a local disk in development, a mounted volume in compose).</summary>
public sealed class FileSystemMediaStore(IOptions<StorageOptions> options) : IMediaStore
{
    private readonly string _root = Path.GetFullPath(options.Value.Root);

    /// <summary>
    /// A shared volume has bad moments (NFS hiccups, a file briefly held by a reader): retry I/O faults with
    /// backoff before a stage has to give up. Missing files are not transient and fail at once.
    /// </summary>
    private static readonly ResiliencePipeline TransientIo = new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<IOException>(e => e is not (FileNotFoundException or DirectoryNotFoundException)),
            MaxRetryAttempts = 4,
            BackoffType = DelayBackoffType.Exponential,
            Delay = TimeSpan.FromMilliseconds(100),
            UseJitter = true,
        })
        .Build();

    public async Task<long> WriteAsync(string key, Stream content, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        var path = PathFor(key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        // Write to a temporary name first so a reader never sees half a file under the real key.
        var partial = path + ".partial";
        long total = 0;
        try
        {
            await using (var file = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
            {
                var buffer = new byte[1 << 16];
                int read;
                while ((read = await content.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                    total += read;
                    progress?.Report(total);
                }
            }
            File.Move(partial, path, overwrite: true);
        }
        catch
        {
            // An interrupted write leaves nothing behind, whoever the caller is.
            File.Delete(partial);
            throw;
        }
        return total;
    }

    public string PathFor(string key)
    {
        if (string.IsNullOrWhiteSpace(key) || Path.IsPathRooted(key) || key.Split('/', '\\').Any(part => part is ".." or "."))
            throw new ArgumentException($"'{key}' is not a valid storage key.", nameof(key));
        return Path.Combine(_root, key);
    }

    public bool Exists(string key) => File.Exists(PathFor(key));

    public long? AvailableBytes()
    {
        Directory.CreateDirectory(_root);
        // statvfs on the root: the free blocks an unprivileged writer may use, whichever volume the root is on.
        return new DriveInfo(_root).AvailableFreeSpace;
    }

    public Task MovePrefixAsync(string fromPrefix, string toPrefix, CancellationToken cancellationToken) =>
        TransientIo.ExecuteAsync(_ => { MovePrefix(fromPrefix, toPrefix); return ValueTask.CompletedTask; }, cancellationToken).AsTask();

    public IReadOnlyList<string> PrefixesUnder(string prefix)
    {
        var path = PathFor(prefix);
        return Directory.Exists(path)
            ? Directory.EnumerateDirectories(path).Select(d => $"{prefix}/{Path.GetFileName(d)}").Order(StringComparer.Ordinal).ToList()
            : [];
    }

    public Task DeletePrefixAsync(string prefix, CancellationToken cancellationToken) =>
        TransientIo.ExecuteAsync(_ => { DeletePrefix(prefix); return ValueTask.CompletedTask; }, cancellationToken).AsTask();

    private void MovePrefix(string fromPrefix, string toPrefix)
    {
        var from = PathFor(fromPrefix);
        var to = PathFor(toPrefix);
        // rename(2) cannot replace a non-empty folder: set the old one aside first (a rerun of the same attempt).
        if (Directory.Exists(to))
        {
            var old = $"{to}.replaced-{Guid.NewGuid():N}";
            Directory.Move(to, old);
            Directory.Delete(old, recursive: true);
        }
        Directory.CreateDirectory(Path.GetDirectoryName(to)!);
        Directory.Move(from, to);
    }

    private void DeletePrefix(string prefix)
    {
        var path = PathFor(prefix);
        if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
        else if (File.Exists(path)) File.Delete(path);
        RemoveEmptyParents(path);
    }

    /// <summary>
    /// Keys have no folders: a deleted prefix leaves none behind that held only it. Without this, an attempt that
    /// removes its output after its job's folder was already removed (a cancel racing the stage) left the empty
    /// folders it had recreated, <c>work/{job}/renditions</c>, for nobody to remove. The top-level areas (uploads,
    /// work, outputs) stay; a folder something was just written into is not empty, and rmdir refuses it.
    /// </summary>
    private void RemoveEmptyParents(string path)
    {
        for (var folder = Path.GetDirectoryName(path);
             folder is not null && Path.GetDirectoryName(folder) is { } area && area.Length > _root.Length && area.StartsWith(_root, StringComparison.Ordinal);
             folder = area)
        {
            try
            {
                if (!Directory.Exists(folder) || Directory.EnumerateFileSystemEntries(folder).Any()) return;
                Directory.Delete(folder, recursive: false);
            }
            catch (IOException) { return; } // something arrived in it meanwhile: it is not ours to remove
        }
    }
}
