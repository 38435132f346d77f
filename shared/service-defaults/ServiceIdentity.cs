using System.Reflection;
using System.Security.Cryptography;
using Microsoft.Extensions.Configuration;

namespace Vidline.ServiceDefaults;

/// <summary>
/// Who this process is: the service's name (as in services/services.tsv), the build's version, and the node — one
/// process of the service among possibly several (<c>Service:Node</c>, e.g. <c>transcoder-2</c>; by default the
/// service's name and a random suffix per process start: nodes are shown to API clients in <c>/progress/stats</c>, which
/// must not learn the host's name or process ids).
/// </summary>
public sealed record ServiceIdentity(string Name, string Version, string Node)
{
    public static ServiceIdentity For(string name, IConfiguration configuration)
    {
        var assembly = Assembly.GetEntryAssembly() ?? typeof(ServiceIdentity).Assembly;
        var version = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
                      ?? assembly.GetName().Version?.ToString() ?? "unknown";
        var node = configuration["Service:Node"];
        return new ServiceIdentity(name, version, string.IsNullOrWhiteSpace(node) ? $"{name}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}" : node);
    }
}
