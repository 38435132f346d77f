using Microsoft.Extensions.Configuration;

namespace Vidline.ServiceDefaults.Tests;

public class ServiceIdentityTests
{
    [Fact]
    public void A_node_without_a_configured_name_is_named_without_the_host_or_process_id()
    {
        var unnamed = new ConfigurationBuilder().Build();

        var node = ServiceIdentity.For("transcoder", unnamed).Node;

        Assert.Matches("^transcoder-[0-9a-f]{8}$", node);
        Assert.DoesNotContain(Environment.MachineName, node, StringComparison.OrdinalIgnoreCase);
        Assert.NotEqual(node, ServiceIdentity.For("transcoder", unnamed).Node); // random: two processes on one host differ
    }

    [Fact]
    public void A_configured_node_name_is_kept()
    {
        var named = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Service:Node"] = "transcoder-2" }).Build();

        Assert.Equal("transcoder-2", ServiceIdentity.For("transcoder", named).Node);
    }
}
