using System.Text.RegularExpressions;

namespace Vidline.EndToEnd.Tests;

/// <summary>
/// docker-compose.yml cannot be started here (no Docker engine), so these read it: no secret in it, only the edge
/// published and on localhost by default, database credentials only for the services that use a database (each its
/// own role), and no container running as root.
/// </summary>
public partial class ComposeSecurityTests
{
    private static readonly string RepoRoot = Pipeline.FindRepoRoot();
    private readonly ServiceManifest _manifest = ServiceManifest.Read(RepoRoot);
    private readonly string _text = File.ReadAllText(Path.Combine(RepoRoot, "docker-compose.yml"));
    private readonly YamlNode _services = YamlNode.Load(RepoRoot, "docker-compose.yml")["services"];

    [Fact]
    public void Every_secret_comes_from_the_env_file_which_is_ignored_and_whose_example_names_each_one()
    {
        // A password, in a connection string or a variable of its own, is always a required ${VARIABLE:?message}.
        var literal = LiteralSecret().Matches(_text).Select(m => m.Value).ToList();
        Assert.True(literal.Count == 0, $"literal secrets in docker-compose.yml: {string.Join(", ", literal)}");

        var required = RequiredVariable().Matches(_text).Select(m => m.Groups[1].Value).ToHashSet();
        Assert.Contains("POSTGRES_PASSWORD", required);
        var example = File.ReadAllLines(Path.Combine(RepoRoot, ".env.example"))
            .Where(l => !l.StartsWith('#') && l.Contains('=')).Select(l => l.Split('=')[0]).ToHashSet();
        Assert.Empty(required.Except(example));
        Assert.Contains(".env", File.ReadAllLines(Path.Combine(RepoRoot, ".gitignore")));
    }

    [Fact]
    public void Only_the_edge_is_published_and_on_localhost_unless_told_otherwise()
    {
        var published = _services.Entries().Where(s => s.Value.Has("ports")).ToList();
        Assert.Equal(["edge"], published.Select(s => s.Key));
        Assert.All(published.Single().Value["ports"].Items(), port => Assert.StartsWith("${EDGE_BIND:-127.0.0.1}:", port));
    }

    [Fact]
    public void Only_services_that_use_the_database_get_credentials_each_for_its_own_role()
    {
        var roles = new List<string>();
        foreach (var service in _manifest.Services)
        {
            var environment = _services[service.Name]["environment"];
            var connection = environment.Entries().Where(e => e.Key.StartsWith("ConnectionStrings__")).ToList();
            if (!service.Database)
            {
                Assert.True(connection.Count == 0, $"{service.Name} uses no database but gets {string.Join(", ", connection.Select(c => c.Key))}");
                Assert.DoesNotContain("postgres", _services[service.Name]["depends_on"].Entries().Select(e => e.Key));
                continue;
            }
            var user = Regex.Match(environment.Text("ConnectionStrings__Postgres"), "Username=([^;]+)").Groups[1].Value;
            Assert.NotEqual("postgres", user);
            roles.Add(user);
        }
        Assert.NotEmpty(roles);
        Assert.Equal(roles.Count, roles.Distinct().Count());
        var initRoles = File.ReadAllText(Path.Combine(RepoRoot, "scripts", "postgres", "init-roles.sh"));
        Assert.All(roles, role => Assert.Contains(role, initRoles));
    }

    [Fact]
    public void No_container_runs_as_root()
    {
        var dockerfile = File.ReadAllLines(Path.Combine(RepoRoot, "services", "Dockerfile"));
        var finalStage = dockerfile.Skip(Array.FindLastIndex(dockerfile, l => l.StartsWith("FROM "))).ToList();
        var imageUser = finalStage.LastOrDefault(l => l.StartsWith("USER "))?[5..].Trim();
        foreach (var (name, service) in _services.Entries())
        {
            var user = service.Has("user") ? service.Text("user") : service.Has("build") ? imageUser : null;
            Assert.True(user is not null && user is not ("root" or "0") && !user.StartsWith("0:") && !user.StartsWith("root:"),
                $"{name} runs as {user ?? "its image's default user (root)"}");
        }
    }

    [GeneratedRegex(@"(?im)(password=(?!\$\{)[^;""\s]+|^\s*[\w-]*(password|pass|secret)\w*:\s*(?!\$\{)\S+)")]
    private static partial Regex LiteralSecret();

    [GeneratedRegex(@"\$\{([A-Z_]+):\?")]
    private static partial Regex RequiredVariable();
}
