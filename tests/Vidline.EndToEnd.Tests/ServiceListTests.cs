using System.Xml.Linq;
using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace Vidline.EndToEnd.Tests;

/// <summary>
/// services/services.tsv is the one list of the services. The solution and docker-compose.yml cannot read it, so these
/// tests hold them to it: a service added, renamed or moved in one place and not the others fails here.
/// </summary>
public class ServiceListTests
{
    private const string SharedDockerfile = "services/Dockerfile";
    private static readonly string RepoRoot = Pipeline.FindRepoRoot();
    private readonly ServiceManifest _manifest = ServiceManifest.Read(RepoRoot);

    [Fact]
    public void The_solution_holds_exactly_the_listed_service_projects()
    {
        var listed = _manifest.Services.Select(s => $"{s.Project}/{s.Assembly}.csproj").Order().ToList();
        var inSolution = XDocument.Load(Path.Combine(RepoRoot, "Vidline.slnx")).Descendants("Project")
            .Select(p => (string)p.Attribute("Path")!)
            .Where(path => path.StartsWith("services/"))
            .Order();

        Assert.Equal(listed, inSolution);
        Assert.All(listed, project => Assert.True(File.Exists(Path.Combine(RepoRoot, project)), $"{project} does not exist"));
    }

    [Fact]
    public void The_database_column_names_exactly_the_services_that_register_the_database()
    {
        foreach (var service in _manifest.Services)
        {
            var registers = File.ReadAllText(Path.Combine(RepoRoot, service.Project, "Program.cs")).Contains("AddVidlineDatabase");
            Assert.True(registers == service.Database, $"{service.Name}: services.tsv says database={(service.Database ? "yes" : "no")}");
        }
    }

    [Fact]
    public void Compose_builds_exactly_the_listed_services_from_the_one_Dockerfile()
    {
        var built = Compose()["services"].Entries()
            .Where(service => service.Value.Has("build"))
            .ToDictionary(service => service.Key, service => service.Value["build"]);

        Assert.Equal(_manifest.Services.Select(s => s.Name).Order(), built.Keys.Order());
        foreach (var (name, build) in built)
        {
            Assert.Equal(SharedDockerfile, build.Text("dockerfile"));
            Assert.Equal(name, build["args"].Text("SERVICE"));
        }
    }

    [Fact]
    public void The_compose_edge_proxies_to_the_listed_edge_services_on_their_ports()
    {
        var edge = Compose()["services"]["edge"];
        var environment = edge["environment"];
        var proxied = _manifest.Services.Where(s => s.Edge).ToList();

        Assert.NotEmpty(proxied);
        foreach (var service in proxied)
        {
            Assert.Equal(service.Name, environment.Text($"{service.Env}_HOST"));
            Assert.Equal(service.Port.ToString(), environment.Text($"{service.Env}_PORT"));
        }
        Assert.Equal(proxied.Select(s => s.Name).Order(), edge["depends_on"].Items().Order());
    }

    [Fact]
    public void The_compose_gateway_knows_every_services_address_for_the_edge_health()
    {
        var environment = Compose()["services"]["progress-gateway"]["environment"];
        foreach (var service in _manifest.Services)
            Assert.Equal($"http://{service.Name}:{service.Port}", environment.Text($"ServiceAddresses__{service.Name}"));
        Assert.Equal(_manifest.Services.Count, environment.Entries().Count(e => e.Key.StartsWith("ServiceAddresses__")));
    }

    [Fact]
    public void The_prometheus_configuration_scrapes_every_listed_service_on_its_port()
    {
        using var reader = new StringReader(File.ReadAllText(Path.Combine(RepoRoot, "docs", "prometheus.yml")));
        var config = new YamlNode(new DeserializerBuilder().Build().Deserialize<object>(reader), "docs/prometheus.yml");
        var scraped = config["scrape_configs"].Items<object>().SelectMany(job => new YamlNode(job, "job")["static_configs"].Items<object>())
            .Select(target => new YamlNode(target, "target"))
            .ToDictionary(t => t["labels"].Text("service"), t => t["targets"].Items().Single());
        Assert.Equal(_manifest.Services.ToDictionary(s => s.Name, s => $"127.0.0.1:{s.Port}").OrderBy(p => p.Key), scraped.OrderBy(p => p.Key));
    }

    private static YamlNode Compose() => YamlNode.Load(RepoRoot, "docker-compose.yml");
}
