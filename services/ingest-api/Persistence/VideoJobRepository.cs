using MassTransit;
using MassTransit.Configuration;
using MassTransit.Context;
using MassTransit.Saga;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Npgsql;
using Vidline.IngestApi.Jobs;

namespace Vidline.IngestApi.Persistence;

/// <summary>
/// The saga's repository on PostgreSQL: every message runs in its own transaction, the job is loaded with
/// <c>SELECT ... FOR UPDATE</c> (messages for one job are serialised, none loses an update), committed when the
/// saga pipe succeeds and rolled back when it throws (the stored job stays as it was). It does only what this
/// saga needs: load by id, add a new job, update one.
/// </summary>
public sealed class VideoJobRepository(VideoJobTable table, ISagaConsumeContextFactory<VideoJobTransaction, VideoJobState> factory,
    OutboxSignal outboxSignal) : ISagaRepositoryContextFactory<VideoJobState>
{
    public void Probe(ProbeContext context) => context.Add("persistence", "postgresql");

    public async Task Send<T>(ConsumeContext<T> context, IPipe<SagaRepositoryContext<VideoJobState, T>> next) where T : class
    {
        await using var transaction = await VideoJobTransaction.BeginAsync(table, context.CancellationToken);
        await next.Send(new VideoJobRepositoryContext<T>(transaction, context, factory));
        await transaction.CommitAsync();
        // The transition's messages are committed: deliver them now rather than at the next poll.
        if (transaction.WroteOutbox) outboxSignal.Wake();
    }

    public Task SendQuery<T>(ConsumeContext<T> context, ISagaQuery<VideoJobState> query, IPipe<SagaRepositoryQueryContext<VideoJobState, T>> next)
        where T : class =>
        throw new NotSupportedException("Every job message is correlated by its job id.");
}

/// <summary>The connection and transaction one message runs in; disposed without commit, it rolls back.</summary>
public sealed class VideoJobTransaction : IAsyncDisposable
{
    private VideoJobTransaction(VideoJobTable table, NpgsqlConnection connection, NpgsqlTransaction transaction) =>
        (Table, Connection, Transaction) = (table, connection, transaction);

    public VideoJobTable Table { get; }
    public NpgsqlConnection Connection { get; }
    public NpgsqlTransaction Transaction { get; }

    public static async Task<VideoJobTransaction> BeginAsync(VideoJobTable table, CancellationToken ct)
    {
        var connection = await table.DataSource.OpenConnectionAsync(ct);
        try
        {
            // READ COMMITTED + row locks: every statement sees the latest committed rows, and FOR UPDATE waits for
            // (rather than fails on) a concurrent writer.
            return new VideoJobTransaction(table, connection, await connection.BeginTransactionAsync(System.Data.IsolationLevel.ReadCommitted, ct));
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>Whether a transition wrote messages to the outbox in this transaction.</summary>
    public bool WroteOutbox { get; private set; }

    /// <summary>Stores a message the transition sends or publishes: it leaves only if this transaction commits.</summary>
    public async Task WriteToOutboxAsync(OutboxMessage message, CancellationToken ct)
    {
        await Outbox.AddAsync(Connection, message, ct);
        WroteOutbox = true;
    }

    public Task CommitAsync() => Transaction.CommitAsync(CancellationToken.None);

    public async ValueTask DisposeAsync()
    {
        await Transaction.DisposeAsync();
        await Connection.DisposeAsync();
    }
}

/// <summary>
/// Repository operations for one consumed message, inside that message's transaction. The saga's contexts are built
/// on this scope, which carries the <see cref="VideoJobTransaction"/> as a payload: that is how a transition's
/// messages reach the outbox (<see cref="Jobs.TransitionMessages"/>).
/// </summary>
public sealed class VideoJobRepositoryContext<TMessage>(VideoJobTransaction database, ConsumeContext<TMessage> context,
    ISagaConsumeContextFactory<VideoJobTransaction, VideoJobState> factory)
    : ConsumeContextScope<TMessage>(context, database), SagaRepositoryContext<VideoJobState, TMessage>
    where TMessage : class
{
    public Task<SagaConsumeContext<VideoJobState, T>> CreateSagaConsumeContext<T>(ConsumeContext<T> consumeContext, VideoJobState instance,
        SagaConsumeContextMode mode) where T : class =>
        factory.CreateSagaConsumeContext(database, consumeContext, instance, mode);

    /// <summary>A new job the state machine is about to initialise; <see cref="Save"/> writes it.</summary>
    public Task<SagaConsumeContext<VideoJobState, TMessage>> Add(VideoJobState instance) =>
        factory.CreateSagaConsumeContext(database, this, instance, SagaConsumeContextMode.Add);

    /// <summary>Loads and locks the job; null (the contract for "missing") if there is none.</summary>
    public async Task<SagaConsumeContext<VideoJobState, TMessage>> Load(Guid correlationId) =>
        await database.Table.LoadForUpdate(database.Connection, correlationId, CancellationToken) is { } job
            ? await factory.CreateSagaConsumeContext(database, this, job, SagaConsumeContextMode.Load)
            : null!;

    public async Task Save(SagaConsumeContext<VideoJobState> saga)
    {
        if (!await database.Table.TryInsert(database.Connection, saga.Saga, CancellationToken))
            // Created meanwhile by another message: fail this one; the retry finds the row.
            throw new ConcurrencyException($"Job {saga.Saga.CorrelationId} already exists.", typeof(VideoJobState), saga.Saga.CorrelationId);
    }

    public Task Update(SagaConsumeContext<VideoJobState> saga) => database.Table.Update(database.Connection, saga.Saga, CancellationToken);

    /// <summary>Nothing was written for a discarded new job, and a failing message rolls the whole transaction back.</summary>
    public Task Discard(SagaConsumeContext<VideoJobState> saga) => Task.CompletedTask;

    public Task Undo(SagaConsumeContext<VideoJobState> saga) => Task.CompletedTask;

    // This saga never inserts ahead of the state machine, and never finalises (expired jobs stay as tombstones).
    public Task<SagaConsumeContext<VideoJobState, TMessage>> Insert(VideoJobState instance) => throw new NotSupportedException();

    public Task Delete(SagaConsumeContext<VideoJobState> saga) => throw new NotSupportedException();
}

public static class VideoJobRepositoryRegistration
{
    /// <summary>Stores the VideoJob saga in <c>video_job_saga</c> (see <see cref="VideoJobTable.Migrations"/>).</summary>
    public static ISagaRegistrationConfigurator<VideoJobState> PostgresRepository(this ISagaRegistrationConfigurator<VideoJobState> saga) =>
        saga.Repository(services =>
        {
            services.AddSingleton<VideoJobTable>();
            services.TryAddSingleton<OutboxSignal>();
            services.RegisterSagaRepository<VideoJobState, VideoJobTransaction,
                SagaConsumeContextFactory<VideoJobTransaction, VideoJobState>, VideoJobRepository>();
        });
}
