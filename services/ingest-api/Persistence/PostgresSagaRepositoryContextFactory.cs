using MassTransit;
using MassTransit.Saga;

namespace Vidline.IngestApi.Persistence;

/// <summary>
/// MassTransit saga repository on PostgreSQL: every message runs in its own transaction, the instance is loaded with
/// <c>SELECT ... FOR UPDATE</c> (messages for one instance are serialised, none loses an update), committed when the
/// saga pipe succeeds and rolled back when it throws (the stored instance stays as it was).
/// </summary>
public sealed class PostgresSagaRepositoryContextFactory<TSaga> :
    ISagaRepositoryContextFactory<TSaga>,
    ILoadSagaRepositoryContextFactory<TSaga>,
    IQuerySagaRepositoryContextFactory<TSaga>
    where TSaga : class, ISagaVersion
{
    readonly SagaTable<TSaga> _table;
    readonly ISagaConsumeContextFactory<PostgresSagaDatabaseContext<TSaga>, TSaga> _factory;

    public PostgresSagaRepositoryContextFactory(SagaTable<TSaga> table, ISagaConsumeContextFactory<PostgresSagaDatabaseContext<TSaga>, TSaga> factory)
    {
        _table = table;
        _factory = factory;
    }

    public void Probe(ProbeContext context)
    {
        context.Add("persistence", "postgresql");
        context.Add("table", _table.TableName);
    }

    public Task Send<T>(ConsumeContext<T> context, IPipe<SagaRepositoryContext<TSaga, T>> next)
        where T : class =>
        InTransaction(context.CancellationToken, database =>
            next.Send(new PostgresSagaRepositoryContext<TSaga, T>(database, context, _factory)));

    public Task SendQuery<T>(ConsumeContext<T> context, ISagaQuery<TSaga> query, IPipe<SagaRepositoryQueryContext<TSaga, T>> next)
        where T : class =>
        InTransaction(context.CancellationToken, async database =>
        {
            var filter = query.GetFilter();
            // Ids come from an unlocked scan (sorted, so concurrent queries lock rows in the same order); each instance is
            // then loaded FOR UPDATE and re-checked against the filter.
            var ids = await _table.Scan(database.Connection, filter, context.CancellationToken);
            var repositoryContext = new PostgresSagaRepositoryContext<TSaga, T>(database, context, _factory, filter);
            await next.Send(new DefaultSagaRepositoryQueryContext<TSaga, T>(repositoryContext, ids));
        });

    public Task<T> Execute<T>(Func<LoadSagaRepositoryContext<TSaga>, Task<T>> asyncMethod, CancellationToken cancellationToken = default)
        where T : class =>
        Execute(asyncMethod, cancellationToken, (Func<PostgresSagaRepositoryContext<TSaga>, LoadSagaRepositoryContext<TSaga>>)(c => c));

    public Task<T> Execute<T>(Func<QuerySagaRepositoryContext<TSaga>, Task<T>> asyncMethod, CancellationToken cancellationToken = default)
        where T : class =>
        Execute(asyncMethod, cancellationToken, (Func<PostgresSagaRepositoryContext<TSaga>, QuerySagaRepositoryContext<TSaga>>)(c => c));

    async Task<T> Execute<T, TContext>(Func<TContext, Task<T>> asyncMethod, CancellationToken cancellationToken,
        Func<PostgresSagaRepositoryContext<TSaga>, TContext> cast)
    {
        T result = default!;
        await InTransaction(cancellationToken, async database =>
            result = await asyncMethod(cast(new PostgresSagaRepositoryContext<TSaga>(database, cancellationToken))));
        return result;
    }

    async Task InTransaction(CancellationToken cancellationToken, Func<PostgresSagaDatabaseContext<TSaga>, Task> work)
    {
        await using var database = await PostgresSagaDatabaseContext<TSaga>.Begin(_table, cancellationToken);
        try
        {
            await work(database);
        }
        catch
        {
            await database.Rollback();
            throw;
        }
        await database.Commit();
    }
}
