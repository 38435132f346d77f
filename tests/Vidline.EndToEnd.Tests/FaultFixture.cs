namespace Vidline.EndToEnd.Tests;

/// <summary>
/// The fault tests' world, started once for the whole class: a RabbitMQ node and a PostgreSQL cluster of their
/// own (the tests restart them; the shared ones serve everyone else on this machine), a pipeline on them, and its
/// storage root on a small tmpfs so a test can fill the disk. One clip serves every test.
/// </summary>
public sealed class FaultFixture : IAsyncLifetime
{
    /// <summary>Big enough for the class's jobs (a few MB each), small enough to fill in a moment.</summary>
    private const string StorageSize = "256m";

    public PrivateBroker Broker { get; } = new();
    public PrivateDatabase Database { get; } = new();
    public Pipeline Pipeline { get; private set; } = null!;

    /// <summary>10 s of 720p: with the tests' ultrafast ladder a transcode of 10–20 s here, long enough to strike in, short enough for CI.</summary>
    public string Clip { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Task.WhenAll(Broker.StartAsync(), Database.StartAsync());
        Pipeline = new Pipeline(new Infrastructure(Broker.AmqpPort, Broker.Management, Database.Server));
        Directory.CreateDirectory(Pipeline.StorageRoot);
        await HostCommand.RunAsync("mount", ["-t", "tmpfs", "-o", $"size={StorageSize}", "tmpfs", Pipeline.StorageRoot]);
        await Pipeline.InitializeAsync();
        Clip = await Pipeline.Clips.ClipAsync("fault", 1280, 720, 10);
    }

    public async Task DisposeAsync()
    {
        await Pipeline.DisposeAsync(); // its services are gone after this, so nothing holds the mount
        try { await HostCommand.RunAsync("umount", [Pipeline.StorageRoot]); }
        catch (InvalidOperationException) { await HostCommand.RunAsync("umount", ["--lazy", Pipeline.StorageRoot]); }
        try { Directory.Delete(Pipeline.StateDirectory, recursive: true); } catch (IOException) { }
        await Broker.DisposeAsync();
        await Database.DisposeAsync();
    }
}
