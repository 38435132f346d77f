using Microsoft.Extensions.Options;
using Vidline.Media.Storage;

namespace Vidline.Media.Tests;

public sealed class FileSystemMediaStoreTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("vidline-store-").FullName;

    [Fact]
    public async Task A_write_interrupted_midway_leaves_neither_the_file_nor_a_partial_one()
    {
        var store = new FileSystemMediaStore(Options.Create(new StorageOptions { Root = _root }));

        await Assert.ThrowsAsync<IOException>(() => store.WriteAsync("uploads/job/source", new BreaksAfter(100_000), null, CancellationToken.None));

        Assert.Empty(Directory.EnumerateFiles(_root, "*", SearchOption.AllDirectories));
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
