using MassTransit;
using MassTransit.Context;
using MassTransit.Middleware;
using MassTransit.Saga;
using Npgsql;

namespace Vidline.IngestApi.Persistence;

/// <summary>The open connection and transaction one message (or one Load/Query call) runs in.</summary>
public sealed class PostgresSagaDatabaseContext<TSaga> : IAsyncDisposable
    where TSaga : class, ISagaVersion
{
    PostgresSagaDatabaseContext(SagaTable<TSaga> table, NpgsqlConnection connection, NpgsqlTransaction transaction)
    {
        Table = table;
        Connection = connection;
        Transaction = transaction;
    }

    public SagaTable<TSaga> Table { get; }
    public NpgsqlConnection Connection { get; }
    public NpgsqlTransaction Transaction { get; }

    internal static async Task<PostgresSagaDatabaseContext<TSaga>> Begin(SagaTable<TSaga> table, CancellationToken cancellationToken)
    {
        var connection = await table.DataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            // READ COMMITTED + row locks: every statement sees the latest committed rows, and FOR UPDATE waits for
            // (rather than fails on) a concurrent writer.
            var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.ReadCommitted, cancellationToken);
            return new PostgresSagaDatabaseContext<TSaga>(table, connection, transaction);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    internal Task Commit() => Transaction.CommitAsync(CancellationToken.None);

    internal async Task Rollback()
    {
        if (Transaction.Connection is null) return; // already completed
        try
        {
            await Transaction.RollbackAsync(CancellationToken.None);
        }
        catch (Exception) when (Connection.State != System.Data.ConnectionState.Open)
        {
            // The connection broke; the server rolls the transaction back by itself.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Transaction.DisposeAsync(); // rolls back if neither committed nor rolled back
        await Connection.DisposeAsync();
    }
}

/// <summary>Saga repository operations for one consumed message, inside that message's transaction.</summary>
public sealed class PostgresSagaRepositoryContext<TSaga, TMessage> :
    ConsumeContextScope<TMessage>,
    SagaRepositoryContext<TSaga, TMessage>
    where TSaga : class, ISagaVersion
    where TMessage : class
{
    readonly ConsumeContext<TMessage> _consumeContext;
    readonly PostgresSagaDatabaseContext<TSaga> _database;
    readonly ISagaConsumeContextFactory<PostgresSagaDatabaseContext<TSaga>, TSaga> _factory;
    readonly Func<TSaga, bool>? _queryFilter;

    /// <param name="queryFilter">For query-correlated messages: re-checked after the row is locked, since the row may
    /// have changed between the (unlocked) scan and the lock.</param>
    public PostgresSagaRepositoryContext(PostgresSagaDatabaseContext<TSaga> database, ConsumeContext<TMessage> consumeContext,
        ISagaConsumeContextFactory<PostgresSagaDatabaseContext<TSaga>, TSaga> factory, Func<TSaga, bool>? queryFilter = null)
        : base(consumeContext, database)
    {
        _database = database;
        _consumeContext = consumeContext;
        _factory = factory;
        _queryFilter = queryFilter;
    }

    public Task<SagaConsumeContext<TSaga, T>> CreateSagaConsumeContext<T>(ConsumeContext<T> consumeContext, TSaga instance, SagaConsumeContextMode mode)
        where T : class =>
        _factory.CreateSagaConsumeContext(_database, consumeContext, instance, mode);

    /// <summary>A new instance the state machine is about to initialise; it is written by <see cref="Save"/>.</summary>
    public Task<SagaConsumeContext<TSaga, TMessage>> Add(TSaga instance) =>
        _factory.CreateSagaConsumeContext(_database, _consumeContext, instance, SagaConsumeContextMode.Add);

    /// <summary>
    /// Insert-on-initial: writes the instance before the state machine runs. Null when it already exists, so that
    /// MassTransit goes on to <see cref="Load"/> it (which then waits for the row lock).
    /// </summary>
    public async Task<SagaConsumeContext<TSaga, TMessage>> Insert(TSaga instance)
    {
        if (!await _database.Table.TryInsert(_database.Connection, instance, lockId: true, CancellationToken))
            return null!;
        return await _factory.CreateSagaConsumeContext(_database, _consumeContext, instance, SagaConsumeContextMode.Insert);
    }

    /// <summary>Loads and locks the instance; null (the contract for "missing") if there is none.</summary>
    public async Task<SagaConsumeContext<TSaga, TMessage>> Load(Guid correlationId)
    {
        var instance = await _database.Table.LoadForUpdate(_database.Connection, correlationId, lockIfMissing: _queryFilter is null,
            CancellationToken);
        if (instance is null || (_queryFilter is not null && !_queryFilter(instance)))
            return null!;
        return await _factory.CreateSagaConsumeContext(_database, _consumeContext, instance, SagaConsumeContextMode.Load);
    }

    /// <summary>Writes a new instance (after <see cref="Add"/>).</summary>
    public async Task Save(SagaConsumeContext<TSaga> context)
    {
        if (!await _database.Table.TryInsert(_database.Connection, context.Saga, lockId: false, CancellationToken))
            // Someone else created it without going through our lock (e.g. a query-correlated creation): fail the message;
            // the transaction rolls back and a retry finds the row.
            throw new ConcurrencyException($"Saga {typeof(TSaga).Name} {context.Saga.CorrelationId} already exists.",
                typeof(TSaga), context.Saga.CorrelationId);
    }

    public Task Update(SagaConsumeContext<TSaga> context) => _database.Table.Update(_database.Connection, context.Saga, CancellationToken);

    public Task Delete(SagaConsumeContext<TSaga> context) => _database.Table.Delete(_database.Connection, context.Saga, CancellationToken);

    /// <summary>Nothing was written for a discarded new instance; a failing message rolls the whole transaction back.</summary>
    public Task Discard(SagaConsumeContext<TSaga> context) => Task.CompletedTask;

    /// <summary>Read-only policy: nothing was written.</summary>
    public Task Undo(SagaConsumeContext<TSaga> context) => Task.CompletedTask;
}

/// <summary>Load-by-id and query access outside a message (used by MassTransit's ILoadSagaRepository / IQuerySagaRepository).</summary>
public sealed class PostgresSagaRepositoryContext<TSaga> :
    BasePipeContext,
    LoadSagaRepositoryContext<TSaga>,
    QuerySagaRepositoryContext<TSaga>
    where TSaga : class, ISagaVersion
{
    readonly PostgresSagaDatabaseContext<TSaga> _database;

    public PostgresSagaRepositoryContext(PostgresSagaDatabaseContext<TSaga> database, CancellationToken cancellationToken)
        : base(cancellationToken)
    {
        _database = database;
    }

    public async Task<TSaga> Load(Guid correlationId) =>
        (await _database.Table.Select(_database.Connection, correlationId, forUpdate: false, CancellationToken))!;

    public async Task<SagaRepositoryQueryContext<TSaga>> Query(ISagaQuery<TSaga> query, CancellationToken cancellationToken = default)
    {
        var ids = await _database.Table.Scan(_database.Connection, query.GetFilter(), cancellationToken);
        return new DefaultSagaRepositoryQueryContext<TSaga>(this, ids);
    }
}
