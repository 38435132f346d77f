using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using MassTransit;
using Microsoft.Extensions.Options;
using Npgsql;
using Vidline.IngestApi.Persistence;

namespace Vidline.IngestApi.Jobs;

/// <summary>Section <c>Outbox</c>.</summary>
public sealed class OutboxOptions
{
    /// <summary>
    /// How often the dispatcher looks for messages nobody woke it for: left by a crash between commit and delivery, by
    /// another instance, or by a broker outage. After a commit it is woken at once.
    /// </summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long the broker may take to confirm one message before the dispatcher gives up and tries later.</summary>
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>Wakes the dispatcher after a commit that wrote to the outbox; wakes before it runs count as one.</summary>
public sealed class OutboxSignal
{
    private readonly Channel<bool> _wakes = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    public void Wake() => _wakes.Writer.TryWrite(true);

    /// <summary>Returns when woken, or after <paramref name="timeout"/>.</summary>
    public async Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        wait.CancelAfter(timeout);
        try
        {
            await _wakes.Reader.ReadAsync(wait.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
        }
    }
}

/// <summary>
/// Delivers the outbox: publishes or sends each message with its stored ids, waits for the broker's confirm (the
/// RabbitMQ host is configured with publisher confirms, <c>BusConfiguration</c>), and only then deletes the row. At
/// least once: a crash after the confirm and before the delete delivers the message again, a true duplicate.
/// Outages of the database or the broker are waited out: the pass fails, is logged, and runs again after a pause.
/// </summary>
public sealed class OutboxDispatcher(Outbox outbox, OutboxSignal signal, IBus bus, IOptions<OutboxOptions> options,
    ILogger<OutboxDispatcher> logger) : BackgroundService
{
    public const int BatchSize = 100;
    private const long DispatcherLock = 0x56_4F_55_54; // "VOUT"

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                while (await DeliverBatchAsync(stoppingToken) == BatchSize) { }
                failures = 0;
                await signal.WaitAsync(options.Value.PollInterval, stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // Doubling pauses up to the poll interval: an outage is not hammered, and recovery is noticed soon.
                var pause = TimeSpan.FromMilliseconds(Math.Min(options.Value.PollInterval.TotalMilliseconds, 100 * Math.Pow(2, Math.Min(++failures, 16))));
                logger.LogWarning(e, "Outbox delivery failed ({Failures} in a row); trying again in {Pause}", failures, pause);
                await Task.Delay(pause, stoppingToken);
            }
        }
    }

    /// <summary>Delivers up to <see cref="BatchSize"/> of the oldest messages; returns how many it read.</summary>
    public async Task<int> DeliverBatchAsync(CancellationToken cancellationToken)
    {
        await using var connection = await outbox.DataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // One dispatcher at a time, over every ingest-api instance: the simplest way to keep each job's messages in the
        // order they were written. A second instance waits here for the first one's pass and then finds what is left.
        // (Sharing the work would need locks per job; the saga's few messages per job do not call for it.)
        await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@key)", connection))
        {
            lockCommand.Parameters.AddWithValue("key", DispatcherLock);
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        }
        var batch = await Outbox.OldestAsync(connection, BatchSize, cancellationToken);
        var delivered = new ConcurrentBag<long>();
        var failures = new ConcurrentBag<Exception>();
        // Jobs in parallel, each job's messages one after the other: a message leaves only once the one before it was
        // confirmed, and a job stops at its first failure so that nothing overtakes it.
        await Task.WhenAll(batch.GroupBy(m => m.JobId).Select(async job =>
        {
            foreach (var message in job)
            {
                try
                {
                    await DeliverAsync(message, cancellationToken);
                    delivered.Add(message.Sequence);
                }
                catch (Exception e)
                {
                    failures.Add(e);
                    return;
                }
            }
        }));
        // What the broker confirmed is deleted even when stopping; the rest stays for the next pass.
        await Outbox.DeleteAsync(connection, delivered, CancellationToken.None);
        await transaction.CommitAsync(CancellationToken.None);
        if (failures.TryPeek(out var failure)) ExceptionDispatchInfo.Throw(failure);
        return batch.Count;
    }

    private async Task DeliverAsync(OutboxMessage message, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Value.PublishTimeout);
        if (message.Destination is null)
            await bus.Publish(message.Message, message.Type, send => Stamp(send, message), timeout.Token);
        else
            await (await bus.GetSendEndpoint(message.Destination)).Send(message.Message, message.Type, send => Stamp(send, message), timeout.Token);
    }

    /// <summary>The ids written with the message, so a redelivery is recognisable, and its priority in a stage queue.</summary>
    private static void Stamp(SendContext send, OutboxMessage message)
    {
        send.MessageId = message.MessageId;
        send.RequestId = message.RequestId;
        if (message.Priority is { } priority) send.SetRabbitMqPriority(priority);
    }
}
