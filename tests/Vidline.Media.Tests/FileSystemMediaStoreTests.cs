using Microsoft.Extensions.Options;
using Vidline.Media.Storage;

namespace Vidline.Media.Tests;

public sealed class FileSystemMediaStoreTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("vidline-store-").FullName;

    [Fact]
    public async Task Deleting_a_prefix_leaves_no_folder_that_held_only_it_and_keeps_the_top_level_areas()
    {
        var store = new FileSystemMediaStore(Options.Create(new StorageOptions { Root = _root }));
        var job = Guid.NewGuid().ToString("N");
        await store.WriteAsync($"work/{job}/renditions/attempt-1/360p.mp4", new MemoryStream([1, 2, 3]), null, CancellationToken.None);
        await store.WriteAsync($"work/{job}/completed/transcoding-attempt-1.json", new MemoryStream([1]), null, CancellationToken.None);
        await store.WriteAsync($"work/other/renditions/attempt-1/360p.mp4", new MemoryStream([1]), null, CancellationToken.None);

        await store.DeletePrefixAsync($"work/{job}/renditions/attempt-1", CancellationToken.None);
        Assert.False(Directory.Exists(Path.Combine(_root, "work", job, "renditions"))); // held only the attempt
        Assert.True(store.Exists($"work/{job}/completed/transcoding-attempt-1.json")); // its sibling stays, and so its parent

        await store.DeletePrefixAsync($"work/{job}/completed", CancellationToken.None);
        Assert.False(Directory.Exists(Path.Combine(_root, "work", job)));
        Assert.True(store.Exists("work/other/renditions/attempt-1/360p.mp4"));

        await store.DeletePrefixAsync("work/other", CancellationToken.None);
        Assert.True(Directory.Exists(Path.Combine(_root, "work"))); // a top-level area stays, empty
    }

    [Fact]
    public async Task A_write_interrupted_midway_leaves_neither_the_file_nor_a_partial_one()
    {
        var store = new FileSystemMediaStore(Options.Create(new StorageOptions { Root = _root }));

        await Assert.ThrowsAsync<IOException>(() => store.WriteAsync("uploads/job/source", new BreaksAfter(100_000), null, CancellationToken.None));

        Assert.Empty(Directory.EnumerateFiles(_root, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Lists_the_prefixes_directly_under_one_and_none_under_nothing()
    {
        var store = new FileSystemMediaStore(Options.Create(new StorageOptions { Root = _root }));
        foreach (var key in new[] { "work/j/renditions/attempt-1.partial/720p/seg-00001.m4s", "work/j/renditions/attempt-2/x", "work/j/renditions/loose" })
            await store.WriteAsync(key, new MemoryStream([1]), null, CancellationToken.None);

        Assert.Equal(["work/j/renditions/attempt-1.partial", "work/j/renditions/attempt-2"], store.PrefixesUnder("work/j/renditions"));
        Assert.Empty(store.PrefixesUnder("work/nothing"));
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>A client's body that stops with a connection error after <c>bytes</c>.</summary>
    private sealed class BreaksAfter(int bytes) : Stream
    {
        private int _sent;

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_sent >= bytes) throw new IOException("The client went away.");
            var n = Math.Min(count, bytes - _sent);
            _sent += n;
            return n;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _sent; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
