using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using MassTransit;
using Npgsql;

namespace Vidline.IngestApi.Persistence;

/// <summary>
/// Settings of the PostgreSQL repository for one saga type. One table per saga type; the instance is stored as
/// System.Text.Json (public get/set properties) in a <c>jsonb</c> column, next to the columns the repository owns.
/// </summary>
public sealed class PostgresSagaRepositoryOptions<TSaga>
    where TSaga : class, ISagaVersion
{
    public PostgresSagaRepositoryOptions(string tableName)
    {
        TableName = SagaTableMigration.ValidateTableName(tableName);
        CurrentState = DefaultCurrentStateAccessor();
    }

    /// <summary>Table name, optionally schema-qualified (<c>video_job_saga</c>, <c>ingest.video_job_saga</c>).</summary>
    public string TableName { get; }

    /// <summary>
    /// Serializer settings for the <c>data</c> column. Default: System.Text.Json defaults (PascalCase names, public
    /// get/set properties). Changing this for an existing table must stay able to read the rows already stored.
    /// </summary>
    public JsonSerializerOptions JsonSerializerOptions { get; set; } = new(JsonSerializerDefaults.General);

    /// <summary>
    /// Value of the <c>current_state</c> column. Default: the saga's public <c>CurrentState</c> property (string,
    /// int or <see cref="State"/>), else an empty string.
    /// </summary>
    public Func<TSaga, string?> CurrentState { get; set; }

    /// <summary>Where the connections come from. Default: the <see cref="NpgsqlDataSource"/> registered in DI.</summary>
    public Func<IServiceProvider, NpgsqlDataSource>? DataSource { get; set; }

    static Func<TSaga, string?> DefaultCurrentStateAccessor()
    {
        var property = typeof(TSaga).GetProperty("CurrentState", BindingFlags.Public | BindingFlags.Instance);
        if (property is null || !property.CanRead) return static _ => "";
        if (typeof(State).IsAssignableFrom(property.PropertyType))
            return saga => (property.GetValue(saga) as State)?.Name;
        return saga => property.GetValue(saga)?.ToString();
    }
}

/// <summary>The schema of a saga table, as a <see cref="Vidline.ServiceDefaults.Migration"/>.</summary>
public static partial class SagaTableMigration
{
    /// <summary>
    /// The migration creating the saga table <paramref name="tableName"/> (id <c>saga-table-{tableName}-v1</c>):
    /// <code>
    /// correlation_id uuid PRIMARY KEY, current_state text NOT NULL, version int NOT NULL,
    /// data jsonb NOT NULL, updated_at timestamptz NOT NULL DEFAULT now()
    /// </code>
    /// plus an index on (current_state, updated_at) for sweeps over stalled instances.
    /// </summary>
    public static Vidline.ServiceDefaults.Migration For(string tableName)
    {
        var table = ValidateTableName(tableName);
        var indexName = table.Replace('.', '_') + "_state_updated_idx";
        var schema = table.Contains('.') ? $"CREATE SCHEMA IF NOT EXISTS {table[..table.IndexOf('.')]};\n" : "";
        return new Vidline.ServiceDefaults.Migration($"saga-table-{table}-v1", $"""
            {schema}CREATE TABLE IF NOT EXISTS {table} (
                correlation_id uuid PRIMARY KEY,
                current_state text NOT NULL,
                version int NOT NULL,
                data jsonb NOT NULL,
                updated_at timestamptz NOT NULL DEFAULT now()
            );
            CREATE INDEX IF NOT EXISTS {indexName} ON {table} (current_state, updated_at);
            """);
    }

    /// <summary>Accepts <c>name</c> or <c>schema.name</c> made of lower-case letters, digits and underscores.</summary>
    public static string ValidateTableName(string tableName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(tableName);
        if (!TableNamePattern().IsMatch(tableName))
            throw new ArgumentException(
                $"Saga table name '{tableName}' must be 'name' or 'schema.name' of lower-case letters, digits and underscores.",
                nameof(tableName));
        return tableName;
    }

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}(\\.[a-z_][a-z0-9_]{0,62})?$")]
    private static partial Regex TableNamePattern();
}
