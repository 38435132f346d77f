using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Vidline.ProgressGateway.Tests.Integration;

/// <summary>
/// A throw-away RabbitMQ virtual host on the machine's broker (through its management API), so a test's queues
/// never meet those of a system running alongside.
/// </summary>
public sealed class BrokerVirtualHost : IAsyncDisposable
{
    private const string Management = "http://127.0.0.1:15672/api";
    private readonly HttpClient _http = new();

    private BrokerVirtualHost(string name)
    {
        Name = name;
        _http.DefaultRequestHeaders.Authorization =
            new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.ASCII.GetBytes("guest:guest")));
    }

    public string Name { get; }

    public static async Task<BrokerVirtualHost> CreateAsync(string name)
    {
        var host = new BrokerVirtualHost(name);
        (await host._http.PutAsync($"{Management}/vhosts/{name}", null)).EnsureSuccessStatusCode();
        (await host._http.PutAsJsonAsync($"{Management}/permissions/{name}/guest",
            new { configure = ".*", write = ".*", read = ".*" })).EnsureSuccessStatusCode();
        return host;
    }

    /// <summary>Messages in a queue, ready and unacknowledged; 0 for a queue that was never declared.</summary>
    public async Task<long> MessagesInAsync(string queue)
    {
        var response = await _http.GetAsync($"{Management}/queues/{Uri.EscapeDataString(Name)}/{Uri.EscapeDataString(queue)}");
        if (response.StatusCode == HttpStatusCode.NotFound) return 0;
        response.EnsureSuccessStatusCode();
        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        return json.TryGetProperty("messages", out var messages) ? messages.GetInt64() : 0;
    }

    public async ValueTask DisposeAsync()
    {
        await _http.DeleteAsync($"{Management}/vhosts/{Name}");
        _http.Dispose();
    }
}
