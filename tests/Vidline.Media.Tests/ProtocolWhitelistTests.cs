using System.Net;
using System.Net.Sockets;

namespace Vidline.Media.Tests;

/// <summary>
/// An upload is attacker-controlled input to ffprobe. Crafted playlists must not make it open
/// network URLs or use protocol tricks to read files on this machine.
/// </summary>
[Collection(MediaCollection.Name)]
public class ProtocolWhitelistTests(TestMedia media)
{
    private string Playlist(string name, string segmentUri)
    {
        var path = media.In(name);
        File.WriteAllText(path, $"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\n{segmentUri}\n#EXT-X-ENDLIST\n");
        return path;
    }

    [Fact]
    public async Task A_playlist_pointing_at_the_network_is_rejected_without_connecting()
    {
        // A listener the playlist points at: if ffprobe connected, it would show up as pending.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var upload = Playlist("evil-http.mp4", $"http://127.0.0.1:{port}/evil.ts");

        await Assert.ThrowsAsync<UnusableMediaException>(() => new MediaProbe(media.Runner).ProbeAsync(upload));

        Assert.False(listener.Pending(), "ffprobe connected to the URL in the playlist");
    }

    [Fact]
    public async Task The_whitelist_itself_blocks_http_even_below_MediaProbe()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var playlist = Playlist("evil-http.m3u8", $"http://127.0.0.1:{port}/evil.ts");
        var args = new List<string> { "-v", "error" };
        HardenedInput.AddTo(args, playlist);

        var e = await Assert.ThrowsAsync<FfmpegException>(() => media.Runner.RunFfprobeAsync(args));

        Assert.Contains(e.StderrTail, line => line.Contains("not on whitelist"));
        Assert.False(listener.Pending());
    }

    [Theory]
    [InlineData("file:///etc/passwd")]
    [InlineData("concat:/etc/passwd|/etc/hostname")]
    [InlineData("subfile,,start,0,end,0,,:/etc/passwd")]
    [InlineData("crypto+file:///etc/passwd")]
    [InlineData("data:video/mp2t;base64,R0VU")]
    public async Task A_playlist_using_protocol_tricks_is_rejected(string segmentUri)
    {
        var upload = Playlist("evil-" + Guid.NewGuid().ToString("N")[..6] + ".mp4", segmentUri);

        var e = await Assert.ThrowsAsync<UnusableMediaException>(() => new MediaProbe(media.Runner).ProbeAsync(upload));

        Assert.DoesNotContain("root:", e.Reason);
    }

    [Fact]
    public async Task Even_a_playlist_of_harmless_local_files_is_not_accepted_as_an_upload()
    {
        var upload = Playlist("local-playlist.m3u8", media.Clip360);

        var e = await Assert.ThrowsAsync<UnusableMediaException>(() => new MediaProbe(media.Runner).ProbeAsync(upload));

        Assert.Contains("Playlists", e.Reason);
    }

    [Fact]
    public async Task An_ffconcat_list_naming_local_files_is_rejected()
    {
        var upload = media.In("list.mp4");
        await File.WriteAllTextAsync(upload, $"ffconcat version 1.0\nfile '{media.Clip360}'\n");

        await Assert.ThrowsAsync<UnusableMediaException>(() => new MediaProbe(media.Runner).ProbeAsync(upload));
    }
}
