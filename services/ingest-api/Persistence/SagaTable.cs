using System.Collections;
using System.Text.Json;
using MassTransit;
using Npgsql;
using NpgsqlTypes;

namespace Vidline.IngestApi.Persistence;

/// <summary>One stored saga instance with the columns the repository maintains.</summary>
public sealed record SagaRow<TSaga>(TSaga Saga, string CurrentState, int Version, DateTimeOffset UpdatedAt)
    where TSaga : class, ISagaVersion
{
    public Guid CorrelationId => Saga.CorrelationId;
}

/// <summary>
/// The table backing one saga type. Its public methods are read-only and take no locks (a snapshot that may be
/// stale by the time you act on it: change a saga by sending it a message, never by writing its row). The
/// repository uses the internal members inside its per-message transaction.
/// Registered as a singleton by <see cref="PostgresSagaRepositoryRegistrationExtensions.PostgresRepository{TSaga}"/>.
/// </summary>
public sealed class SagaTable<TSaga>
    where TSaga : class, ISagaVersion
{
    const string Columns = "correlation_id, current_state, version, data::text, updated_at";

    readonly PostgresSagaRepositoryOptions<TSaga> _options;
    readonly int _lockNamespace;

    public SagaTable(PostgresSagaRepositoryOptions<TSaga> options, NpgsqlDataSource dataSource)
    {
        _options = options;
        DataSource = dataSource;
        _lockNamespace = StableHash(options.TableName);
    }

    public string TableName => _options.TableName;

    public NpgsqlDataSource DataSource { get; }

    /// <summary>The instance with this id, or null.</summary>
    public async Task<TSaga?> LoadAsync(Guid correlationId, CancellationToken cancellationToken = default)
    {
        var rows = await QueryRowsAsync("correlation_id = @id", new { id = correlationId }, cancellationToken);
        return rows.Count == 0 ? null : rows[0].Saga;
    }

    /// <summary>
    /// Instances matching <paramref name="whereClause"/> (SQL after <c>WHERE</c>; may end with ORDER BY / LIMIT).
    /// Columns: <c>correlation_id uuid, current_state text, version int, data jsonb, updated_at timestamptz</c>,
    /// e.g. <c>"current_state = ANY(@states) AND updated_at &lt; @cutoff"</c> or <c>"data->>'JobId' = @job"</c>.
    /// <paramref name="parameters"/>: an object whose public properties become <c>@name</c> parameters, an
    /// <c>IReadOnlyDictionary&lt;string, object?&gt;</c>, or a sequence of <see cref="NpgsqlParameter"/>.
    /// Never put untrusted text into <paramref name="whereClause"/>: pass it as a parameter.
    /// </summary>
    public async Task<IReadOnlyList<TSaga>> QueryAsync(string? whereClause = null, object? parameters = null,
        CancellationToken cancellationToken = default)
    {
        var rows = await QueryRowsAsync(whereClause, parameters, cancellationToken);
        return rows.Select(r => r.Saga).ToList();
    }

    /// <summary>Like <see cref="QueryAsync"/>, with the row's state, version and last update time.</summary>
    public async Task<IReadOnlyList<SagaRow<TSaga>>> QueryRowsAsync(string? whereClause = null, object? parameters = null,
        CancellationToken cancellationToken = default)
    {
        await using var connection = await DataSource.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            string.IsNullOrWhiteSpace(whereClause) ? $"SELECT {Columns} FROM {TableName}" : $"SELECT {Columns} FROM {TableName} WHERE {whereClause}",
            connection);
        AddParameters(command, parameters);
        return await ReadRows(command, cancellationToken);
    }

    /// <summary>
    /// Instances in one of <paramref name="states"/> whose row was last written before <paramref name="updatedBefore"/>
    /// (when given), oldest first: the query behind a sweep over stalled instances.
    /// </summary>
    public Task<IReadOnlyList<SagaRow<TSaga>>> FindInStatesAsync(IEnumerable<string> states, DateTimeOffset? updatedBefore = null,
        int limit = 1000, CancellationToken cancellationToken = default)
    {
        var parameters = new Dictionary<string, object?>
        {
            ["states"] = states.ToArray(),
            ["before"] = updatedBefore?.ToUniversalTime(),
            ["limit"] = limit,
        };
        return QueryRowsAsync(
            "current_state = ANY(@states) AND (@before::timestamptz IS NULL OR updated_at < @before) ORDER BY updated_at LIMIT @limit",
            parameters, cancellationToken);
    }

    // ---- used by the repository, inside its transaction ----

    /// <summary>
    /// Loads and row-locks the instance (<c>FOR UPDATE</c>). When it is missing and <paramref name="lockIfMissing"/> is
    /// set, takes a transaction-scoped advisory lock on the id and looks again, so that of two messages that both
    /// find no instance, the second waits for the first to commit its insert and then sees the row.
    /// </summary>
    internal async Task<TSaga?> LoadForUpdate(NpgsqlConnection connection, Guid correlationId, bool lockIfMissing,
        CancellationToken cancellationToken)
    {
        var saga = await SelectForUpdate(connection, correlationId, cancellationToken);
        if (saga is not null || !lockIfMissing) return saga;

        await LockId(connection, correlationId, cancellationToken);
        return await SelectForUpdate(connection, correlationId, cancellationToken);
    }

    /// <summary>Inserts the instance with version 1 unless its id exists; false if it existed.</summary>
    internal async Task<bool> TryInsert(NpgsqlConnection connection, TSaga saga, bool lockId, CancellationToken cancellationToken)
    {
        if (lockId) await LockId(connection, saga.CorrelationId, cancellationToken);

        var previousVersion = saga.Version;
        saga.Version = 1;
        await using var command = new NpgsqlCommand($"""
            INSERT INTO {TableName} (correlation_id, current_state, version, data, updated_at)
            VALUES (@id, @state, @version, @data, now())
            ON CONFLICT (correlation_id) DO NOTHING
            """, connection);
        AddRowParameters(command, saga);
        var inserted = await command.ExecuteNonQueryAsync(cancellationToken) == 1;
        if (!inserted) saga.Version = previousVersion;
        return inserted;
    }

    /// <summary>Writes the instance and bumps its version; the row must still have the version that was loaded.</summary>
    internal async Task Update(NpgsqlConnection connection, TSaga saga, CancellationToken cancellationToken)
    {
        var loadedVersion = saga.Version;
        saga.Version = loadedVersion + 1;
        await using var command = new NpgsqlCommand($"""
            UPDATE {TableName} SET current_state = @state, version = @version, data = @data, updated_at = now()
            WHERE correlation_id = @id AND version = @loaded
            """, connection);
        AddRowParameters(command, saga);
        command.Parameters.AddWithValue("loaded", loadedVersion);
        if (await command.ExecuteNonQueryAsync(cancellationToken) != 1)
        {
            saga.Version = loadedVersion;
            throw new ConcurrencyException($"Saga {typeof(TSaga).Name} {saga.CorrelationId} version {loadedVersion} was changed or removed meanwhile.",
                typeof(TSaga), saga.CorrelationId);
        }
    }

    internal async Task Delete(NpgsqlConnection connection, TSaga saga, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"DELETE FROM {TableName} WHERE correlation_id = @id", connection);
        command.Parameters.AddWithValue("id", saga.CorrelationId);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Ids of the instances matching a MassTransit query (a full scan: the filter is a compiled LINQ predicate).</summary>
    internal async Task<List<Guid>> Scan(NpgsqlConnection connection, Func<TSaga, bool> filter, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"SELECT {Columns} FROM {TableName}", connection);
        var rows = await ReadRows(command, cancellationToken);
        return rows.Where(r => filter(r.Saga)).Select(r => r.CorrelationId).Order().ToList();
    }

    Task<TSaga?> SelectForUpdate(NpgsqlConnection connection, Guid correlationId, CancellationToken cancellationToken) =>
        Select(connection, correlationId, forUpdate: true, cancellationToken);

    internal async Task<TSaga?> Select(NpgsqlConnection connection, Guid correlationId, bool forUpdate, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            $"SELECT {Columns} FROM {TableName} WHERE correlation_id = @id" + (forUpdate ? " FOR UPDATE" : ""), connection);
        command.Parameters.AddWithValue("id", correlationId);
        var rows = await ReadRows(command, cancellationToken);
        return rows.Count == 0 ? null : rows[0].Saga;
    }

    async Task LockId(NpgsqlConnection connection, Guid correlationId, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@ns, @key)", connection);
        command.Parameters.AddWithValue("ns", _lockNamespace);
        command.Parameters.AddWithValue("key", FoldGuid(correlationId));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    async Task<IReadOnlyList<SagaRow<TSaga>>> ReadRows(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var rows = new List<SagaRow<TSaga>>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var correlationId = reader.GetGuid(0);
            var version = reader.GetInt32(2);
            var saga = JsonSerializer.Deserialize<TSaga>(reader.GetString(3), _options.JsonSerializerOptions)
                ?? throw new InvalidOperationException($"Row {correlationId} of {TableName} holds no saga.");
            // The columns are authoritative for identity and version.
            saga.CorrelationId = correlationId;
            saga.Version = version;
            rows.Add(new SagaRow<TSaga>(saga, reader.GetString(1), version, reader.GetFieldValue<DateTimeOffset>(4)));
        }
        return rows;
    }

    void AddRowParameters(NpgsqlCommand command, TSaga saga)
    {
        command.Parameters.AddWithValue("id", saga.CorrelationId);
        command.Parameters.AddWithValue("state", _options.CurrentState(saga) ?? "");
        command.Parameters.AddWithValue("version", saga.Version);
        command.Parameters.Add(new NpgsqlParameter("data", NpgsqlDbType.Jsonb)
        {
            Value = JsonSerializer.Serialize(saga, _options.JsonSerializerOptions),
        });
    }

    static void AddParameters(NpgsqlCommand command, object? parameters)
    {
        switch (parameters)
        {
            case null:
                return;
            case IEnumerable<NpgsqlParameter> list:
                foreach (var parameter in list) command.Parameters.Add(parameter);
                return;
            case IEnumerable<KeyValuePair<string, object?>> pairs:
                foreach (var (name, value) in pairs) command.Parameters.AddWithValue(name, value ?? DBNull.Value);
                return;
            case IEnumerable:
                throw new ArgumentException("Pass parameters as an object, a dictionary or NpgsqlParameters.", nameof(parameters));
            default:
                foreach (var property in parameters.GetType().GetProperties())
                    if (property.CanRead && property.GetIndexParameters().Length == 0)
                        command.Parameters.AddWithValue(property.Name, property.GetValue(parameters) ?? DBNull.Value);
                return;
        }
    }

    /// <summary>FNV-1a: stable across processes (string.GetHashCode is randomised per process).</summary>
    static int StableHash(string text)
    {
        var hash = 2166136261u;
        foreach (var c in text)
        {
            hash ^= c;
            hash *= 16777619u;
        }
        return unchecked((int)hash);
    }

    static int FoldGuid(Guid id)
    {
        Span<byte> bytes = stackalloc byte[16];
        id.TryWriteBytes(bytes);
        return BitConverter.ToInt32(bytes[..4]) ^ BitConverter.ToInt32(bytes[4..8]) ^ BitConverter.ToInt32(bytes[8..12]) ^ BitConverter.ToInt32(bytes[12..]);
    }
}
