namespace Vidline.EndToEnd.Tests;

/// <summary>One line of services/services.tsv.</summary>
public sealed record ServiceEntry(string Name, string Project, string Assembly, int Port, string Env, int Phase, bool Ffmpeg, bool Edge, bool Database)
{
    /// <summary>The variable that overrides the service's port, for scripts/infra.sh (edge) and scripts/services.sh.</summary>
    public string PortVariable => $"{Env}_PORT";
}

/// <summary>
/// services/services.tsv, the one list of the services that the scripts, the bench and these tests start. Columns are
/// found by the header line; lines starting with # are comments.
/// </summary>
public sealed class ServiceManifest
{
    public const string RelativePath = "services/services.tsv";

    private ServiceManifest(IReadOnlyList<ServiceEntry> services) => Services = services;

    /// <summary>In the order of the file.</summary>
    public IReadOnlyList<ServiceEntry> Services { get; }

    /// <summary>The services grouped by start phase, first phase first: a phase starts when the one before is healthy.</summary>
    public IEnumerable<IReadOnlyList<ServiceEntry>> Phases =>
        Services.GroupBy(s => s.Phase).OrderBy(g => g.Key).Select(g => (IReadOnlyList<ServiceEntry>)g.ToList());

    public static ServiceManifest Read(string repoRoot)
    {
        var path = Path.Combine(repoRoot, RelativePath);
        var lines = File.ReadAllLines(path).Where(l => l.Trim().Length > 0 && !l.StartsWith('#')).ToList();
        if (lines.Count == 0) throw new InvalidDataException($"{path} has no header line");
        var header = lines[0].Split('\t');
        var services = lines.Skip(1).Select((line, i) =>
        {
            var fields = line.Split('\t');
            if (fields.Length != header.Length)
                throw new InvalidDataException($"{path}: service {i + 1} has {fields.Length} fields, the header {header.Length}");
            string Field(string column) => Array.IndexOf(header, column) is var at and >= 0
                ? fields[at]
                : throw new InvalidDataException($"{path} has no column '{column}'");
            return new ServiceEntry(Field("name"), Field("project"), Field("assembly"), int.Parse(Field("port")), Field("env"),
                int.Parse(Field("phase")), Field("ffmpeg") == "yes", Field("edge") == "yes", Field("database") == "yes");
        }).ToList();
        return new ServiceManifest(services);
    }
}
