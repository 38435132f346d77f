using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace Vidline.EndToEnd.Tests;

/// <summary>A node of a deserialised YAML file, whose failures name the path that was missing or of another kind.</summary>
internal sealed record YamlNode(object? Value, string Path)
{
    /// <summary>A file of the repository; MergingParser applies `&lt;&lt;: *anchor` merges, as docker compose does.</summary>
    public static YamlNode Load(string repoRoot, string relativePath)
    {
        using var reader = new StringReader(File.ReadAllText(System.IO.Path.Combine(repoRoot, relativePath)));
        var document = new DeserializerBuilder().Build().Deserialize<object>(new MergingParser(new Parser(reader)));
        return new YamlNode(document, relativePath);
    }

    private IDictionary<object, object> Map => Value as IDictionary<object, object>
        ?? throw new Xunit.Sdk.XunitException($"{Path} is not a mapping");

    public bool Has(string key) => Map.ContainsKey(key);

    public YamlNode this[string key] => Map.TryGetValue(key, out var child)
        ? new YamlNode(child, $"{Path}.{key}")
        : throw new Xunit.Sdk.XunitException($"{Path} has no '{key}'");

    public IEnumerable<KeyValuePair<string, YamlNode>> Entries() =>
        Map.Select(e => KeyValuePair.Create((string)e.Key, new YamlNode(e.Value, $"{Path}.{e.Key}")));

    public string Text(string key) => this[key].Value as string ?? throw new Xunit.Sdk.XunitException($"{Path}.{key} is not text");

    public IEnumerable<string> Items() => Items<string>();

    public IEnumerable<T> Items<T>() => (Value as IEnumerable<object> ?? throw new Xunit.Sdk.XunitException($"{Path} is not a list"))
        .Select(item => (T)item);
}
