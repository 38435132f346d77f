using System.Text.Json;
using MassTransit;
using Npgsql;
using NpgsqlTypes;
using Vidline.Contracts;
using Vidline.ServiceDefaults;

namespace Vidline.IngestApi.Persistence;

/// <summary>
/// One message a saga transition sends or publishes, as stored in the <c>outbox</c> table until the broker confirmed
/// it (the message serialised as JSON; the dispatcher reads it back into its type and sends that). Its ids are fixed
/// here, at write time, so a redelivery after a crash is a true duplicate (same MessageId, same EventId in the body)
/// that consumers recognise.
/// </summary>
public sealed record OutboxMessage(long Sequence, Guid JobId, Guid MessageId, string MessageType, string Body,
    Uri? Destination, byte? Priority, Guid? RequestId)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.General);

    /// <param name="destination">Where to send it; null publishes it.</param>
    public static OutboxMessage Of(Guid jobId, object message, Uri? destination = null, byte? priority = null, Guid? requestId = null) =>
        new(0, jobId, NewId.NextGuid(), message.GetType().FullName!, JsonSerializer.Serialize(message, message.GetType(), Json),
            destination, priority, requestId);

    /// <summary>Only message contracts travel through the outbox, so the type is looked up there.</summary>
    public Type Type => typeof(IJobMessage).Assembly.GetType(MessageType, throwOnError: true)!;

    public object Message => JsonSerializer.Deserialize(Body, Type, Json)!;
}

/// <summary>
/// The <c>outbox</c> table: a saga transition writes its messages here in the same transaction as the job's row, so
/// they exist exactly when the new state does; <see cref="Jobs.OutboxDispatcher"/> delivers and deletes them.
/// Per job, rows are numbered in commit order: each transition holds the job's row lock while it writes, so a later
/// transition's rows always get a higher <c>sequence</c>.
/// </summary>
public sealed class Outbox(NpgsqlDataSource dataSource)
{
    public static readonly Migration Migration = new("0003_outbox", """
        CREATE TABLE outbox (
            sequence bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            job_id uuid NOT NULL,
            message_id uuid NOT NULL UNIQUE,
            message_type text NOT NULL,
            body text NOT NULL,
            destination text,
            priority smallint,
            request_id uuid,
            created_at timestamptz NOT NULL DEFAULT now())
        """);

    private const string Columns = "sequence, job_id, message_id, message_type, body, destination, priority, request_id";

    internal NpgsqlDataSource DataSource => dataSource;

    /// <summary>Writes <paramref name="message"/> on the connection of an open transaction: it commits or rolls back with it.</summary>
    internal static async Task AddAsync(NpgsqlConnection connection, OutboxMessage message, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("""
            INSERT INTO outbox (job_id, message_id, message_type, body, destination, priority, request_id)
            VALUES (@job, @id, @type, @body, @destination, @priority, @request)
            """, connection);
        command.Parameters.AddWithValue("job", message.JobId);
        command.Parameters.AddWithValue("id", message.MessageId);
        command.Parameters.AddWithValue("type", message.MessageType);
        command.Parameters.AddWithValue("body", message.Body);
        command.Parameters.Add(new NpgsqlParameter("destination", NpgsqlDbType.Text) { Value = (object?)message.Destination?.ToString() ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("priority", NpgsqlDbType.Smallint) { Value = (object?)(short?)message.Priority ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("request", NpgsqlDbType.Uuid) { Value = (object?)message.RequestId ?? DBNull.Value });
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The oldest committed messages, in the order they were written.</summary>
    internal static async Task<IReadOnlyList<OutboxMessage>> OldestAsync(NpgsqlConnection connection, int limit, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand($"SELECT {Columns} FROM outbox ORDER BY sequence LIMIT @limit", connection);
        command.Parameters.AddWithValue("limit", limit);
        var messages = new List<OutboxMessage>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            messages.Add(new OutboxMessage(reader.GetInt64(0), reader.GetGuid(1), reader.GetGuid(2), reader.GetString(3), reader.GetString(4),
                reader.IsDBNull(5) ? null : new Uri(reader.GetString(5)),
                reader.IsDBNull(6) ? null : (byte)reader.GetInt16(6),
                reader.IsDBNull(7) ? null : reader.GetGuid(7)));
        return messages;
    }

    internal static async Task DeleteAsync(NpgsqlConnection connection, IReadOnlyCollection<long> sequences, CancellationToken ct)
    {
        if (sequences.Count == 0) return;
        await using var command = new NpgsqlCommand("DELETE FROM outbox WHERE sequence = ANY(@sequences)", connection);
        command.Parameters.AddWithValue("sequences", sequences.ToArray());
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The messages waiting for delivery, oldest first.</summary>
    public async Task<IReadOnlyList<OutboxMessage>> PendingAsync(CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        return await OldestAsync(connection, int.MaxValue, ct);
    }
}
