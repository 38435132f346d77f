using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Vidline.EndToEnd.Tests;

/// <summary>
/// The README's settings table against what the services read: every appsettings.json key, every property of the
/// options classes, and the keys read one by one in code. Each is in the table with its environment variable, and
/// its default is the one in appsettings.json (or, where that has none, the options class's own); nothing in the
/// table is unknown to the code.
/// </summary>
public partial class SettingsTableTests
{
    private static readonly string RepoRoot = Pipeline.FindRepoRoot();

    /// <summary>The options classes and the configuration section each binds (see each service's registration).</summary>
    private static readonly Dictionary<string, string> OptionsSections = new()
    {
        ["Vidline.ServiceDefaults.RabbitMqOptions"] = "RabbitMq",
        ["Vidline.ServiceDefaults.Tenancy.AuthOptions"] = "Auth",
        ["Vidline.Media.Storage.StorageOptions"] = "Storage",
        ["Vidline.Media.MediaOptions"] = "Media",
        ["Vidline.Media.LadderOptions"] = "Media:Ladder",
        ["Vidline.StageWorker.StageWorkOptions"] = "StageWork",
        ["Vidline.IngestApi.Uploads.UploadOptions"] = "Upload",
        ["Vidline.IngestApi.Jobs.StagePolicy"] = "Stages",
        ["Vidline.IngestApi.Jobs.RetentionOptions"] = "Retention",
        ["Vidline.IngestApi.Jobs.OutboxOptions"] = "Outbox",
        ["Vidline.Validator.QualityGateOptions"] = "QualityGate",
        ["Vidline.ProgressGateway.SseOptions"] = "Sse",
        ["Vidline.ProgressGateway.Access.StreamTokenOptions"] = "Streams",
        ["Vidline.ProgressGateway.Access.OutputLinkOptions"] = "Outputs",
        ["Vidline.ServiceDefaults.Limits.RateLimitOptions"] = "RateLimits",
        ["Vidline.ServiceDefaults.Limits.RequestTimeoutOptions"] = "RequestTimeouts",
    };

    /// <summary>Sections bound as a dictionary (one key per node), documented as one row with a placeholder.</summary>
    private static readonly string[] DictionarySections = ["ServiceAddresses"];

    private sealed record Row(string Setting, string Variable, string? Default);

    [Fact]
    public void Every_setting_the_services_read_is_in_the_readme_with_its_variable_and_default()
    {
        var rows = ReadmeRows();
        var known = KnownSettings();

        Assert.All(rows, row => Assert.Equal(row.Setting.Replace(":", "__"), row.Variable));
        var missing = known.Keys.Where(setting => !rows.Any(row => Covers(row, setting))).Order().ToList();
        Assert.True(missing.Count == 0, $"settings missing from the README table: {string.Join(", ", missing)}");
        var unknown = rows.Where(row => !known.Keys.Any(setting => Covers(row, setting))).Select(r => r.Setting).ToList();
        Assert.True(unknown.Count == 0, $"README settings no service reads: {string.Join(", ", unknown)}");

        foreach (var (setting, defaultValue) in known)
        {
            var row = rows.Single(r => Covers(r, setting));
            if (row.Default is null || defaultValue is null) continue;
            Assert.True(SameValue(row.Default, defaultValue), $"{setting}: README says {row.Default}, the code {defaultValue}");
        }
    }

    [Fact]
    public void Every_options_class_of_the_services_is_known_to_this_test()
    {
        var optionsClasses = ServiceAssemblies().SelectMany(LoadableTypes)
            .Where(t => t.Name.EndsWith("Options") && t.Namespace?.StartsWith("Vidline") == true)
            .Select(t => t.FullName!).Distinct().Order();
        Assert.Equal(OptionsSections.Keys.Where(k => k.EndsWith("Options")).Order(), optionsClasses);
    }

    /// <summary>A row covers a setting by its name, or as a list/dictionary row (<c>Section:Rungs:&lt;n&gt;:...</c>).</summary>
    private static bool Covers(Row row, string setting) =>
        row.Setting == setting || (row.Setting.Contains('<') && setting == row.Setting[..row.Setting.IndexOf(":<", StringComparison.Ordinal)]);

    private static List<Row> ReadmeRows()
    {
        var readme = File.ReadAllText(Path.Combine(RepoRoot, "README.md"));
        var table = readme[readme.IndexOf("<!-- settings", StringComparison.Ordinal)..readme.IndexOf("<!-- /settings -->", StringComparison.Ordinal)];
        return table.Split('\n').Where(l => l.StartsWith("| `")).Select(line =>
        {
            var cells = line.Split('|').Select(c => c.Trim()).ToArray();
            string? Code(string cell) => CodeSpan().Match(cell) is { Success: true } m ? m.Groups[1].Value : null;
            return new Row(Code(cells[1])!, Code(cells[2])!, Code(cells[3]));
        }).ToList();
    }

    /// <summary>Every setting the services read, with its default (null where it has none to compare).</summary>
    private static Dictionary<string, string?> KnownSettings()
    {
        var known = new Dictionary<string, string?>();
        foreach (var assembly in ServiceAssemblies())
        foreach (var type in LoadableTypes(assembly).Where(t => t.FullName is { } name && OptionsSections.ContainsKey(name)))
        {
            var instance = Activator.CreateInstance(type);
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite))
                known[$"{OptionsSections[type.FullName!]}:{property.Name}"] = IsScalar(property.PropertyType)
                    ? Convert.ToString(property.GetValue(instance), CultureInfo.InvariantCulture)
                    : null;
        }
        foreach (var source in Directory.EnumerateFiles(RepoRoot, "*.cs", SearchOption.AllDirectories)
                     .Where(f => (f.Contains("/services/") || f.Contains("/shared/")) && !f.Contains("/bin/") && !f.Contains("/obj/")))
        foreach (Match read in KeyReadInCode().Matches(File.ReadAllText(source)))
            known.TryAdd(read.Groups["key"].Value, read.Groups["default"].Success ? read.Groups["default"].Value : null);
        foreach (var section in DictionarySections) known[section] = null;
        // appsettings.json values are the defaults a service actually starts with.
        foreach (var (key, value) in AppSettings()) known[key] = value;
        return known;
    }

    private static IEnumerable<(string Key, string Value)> AppSettings()
    {
        var values = new Dictionary<string, string>();
        foreach (var file in Directory.EnumerateFiles(Path.Combine(RepoRoot, "services"), "appsettings.json", SearchOption.AllDirectories)
                     .Where(f => !f.Contains("/bin/") && !f.Contains("/obj/")))
            Flatten(JsonDocument.Parse(File.ReadAllText(file)).RootElement, "", values, file);
        return values.Select(p => (p.Key, p.Value));
    }

    private static void Flatten(JsonElement element, string prefix, Dictionary<string, string> into, string file)
    {
        if (element.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in element.EnumerateObject())
                Flatten(property.Value, prefix.Length == 0 ? property.Name : $"{prefix}:{property.Name}", into, file);
            return;
        }
        var value = element.ValueKind == JsonValueKind.String ? element.GetString()! : element.GetRawText();
        // One setting, one default: services that set a key must agree on it.
        if (into.TryGetValue(prefix, out var other) && !SameValue(other, value))
            throw new Xunit.Sdk.XunitException($"{file}: {prefix} is {value}, another service has {other}");
        into[prefix] = value;
    }

    private static bool SameValue(string a, string b) =>
        a == b
        || (double.TryParse(a, CultureInfo.InvariantCulture, out var x) && double.TryParse(b, CultureInfo.InvariantCulture, out var y) && x == y)
        || (a.Contains(':') && TimeSpan.TryParse(a, CultureInfo.InvariantCulture, out var s) && TimeSpan.TryParse(b, CultureInfo.InvariantCulture, out var t) && s == t);

    private static bool IsScalar(Type type) =>
        type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(TimeSpan);

    /// <summary>The services' built assemblies, each from its own folder (with the shared libraries beside it).</summary>
    private static IReadOnlyList<Assembly> ServiceAssemblies()
    {
        var configuration = AppContext.BaseDirectory.Contains("/Release/") ? "Release" : "Debug";
        var manifest = ServiceManifest.Read(RepoRoot);
        var loaded = new List<Assembly>();
        foreach (var service in manifest.Services)
        {
            var folder = Path.Combine(RepoRoot, service.Project, "bin", configuration, "net10.0");
            foreach (var dll in Directory.EnumerateFiles(folder, "Vidline.*.dll"))
                loaded.Add(Assembly.LoadFrom(dll));
        }
        return loaded.Distinct().ToList();
    }

    /// <summary>The types that load without ASP.NET Core, which this test process does not have (options classes do).</summary>
    private static IEnumerable<Type> LoadableTypes(Assembly assembly)
    {
        try { return assembly.GetTypes(); }
        catch (ReflectionTypeLoadException e) { return e.Types.OfType<Type>(); }
    }

    [GeneratedRegex("`([^`]+)`")]
    private static partial Regex CodeSpan();

    /// <summary><c>GetValue("Database:MaxPoolSize", 30)</c>, <c>configuration["Service:Node"]</c>: a key read on its own.</summary>
    [GeneratedRegex("""(?:GetValue(?:<[^>]+>)?\(|[cC]onfiguration\[)"(?<key>[A-Za-z]+:[A-Za-z:.]+)"(?:,\s*(?<default>[0-9.]+)\))?""")]
    private static partial Regex KeyReadInCode();
}
