using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Vidline.IngestApi.Persistence;

namespace Vidline.IngestApi.Tests.Persistence;

public sealed class PostgresSagaRepositoryTests : IClassFixture<PostgresTestDatabase>
{
    public const string Table = "counter_saga";
    public const string EagerTable = "persistence_tests.eager_saga";
    static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    readonly PostgresTestDatabase _db;

    public PostgresSagaRepositoryTests(PostgresTestDatabase db) => _db = db;

    [Fact]
    public async Task State_survives_a_restart_and_each_write_bumps_the_version()
    {
        var id = NewId.NextGuid();
        await using (var bus = await StartBus())
        {
            await bus.Publish(new CounterStarted(id, "restart"));
            await bus.Consumed<CounterStarted>(id, 1);
            await bus.Publish(new CounterIncremented(id, 2));
            await bus.Consumed<CounterIncremented>(id, 1);
        }

        var stored = await Table_().QueryRowsAsync("correlation_id = @id", new { id });
        var row = Assert.Single(stored);
        Assert.Equal("Active", row.CurrentState);
        Assert.Equal(2, row.Version);
        Assert.Equal(2, row.Saga.Count);

        await using (var bus = await StartBus())
        {
            await bus.Publish(new CounterIncremented(id, 3));
            var consumed = await bus.Consumed<CounterIncremented>(id, 1);
            Assert.Null(consumed[0].Exception);
        }

        var saga = await Table_().LoadAsync(id);
        Assert.NotNull(saga);
        Assert.Equal(5, saga.Count);
        Assert.Equal("restart", saga.Name);
        Assert.Equal("Active", saga.CurrentState);
        Assert.Equal(3, saga.Version);
        Assert.Equal(id, saga.CorrelationId);

        // The data column is plain JSON the sweep can filter on.
        var byName = await Table_().QueryAsync("data->>'Name' = @name", new { name = "restart" });
        Assert.Equal(id, Assert.Single(byName).CorrelationId);
    }

    [Fact]
    public async Task Concurrent_events_for_one_saga_never_lose_an_update()
    {
        const int events = 200;
        var id = NewId.NextGuid();
        await using var bus = await StartBus(concurrency: 16);
        await bus.Publish(new CounterStarted(id, "concurrent"));
        await bus.Consumed<CounterStarted>(id, 1);

        await Task.WhenAll(Enumerable.Range(0, events).Select(_ => bus.Publish(new CounterIncremented(id, 1))));
        var consumed = await bus.Consumed<CounterIncremented>(id, events);

        var faults = consumed.Where(c => c.Exception is not null).Select(c => c.Exception!.GetBaseException().Message).ToList();
        Assert.True(faults.Count == 0, $"{faults.Count} of {events} failed, e.g. {faults.FirstOrDefault()}");
        var saga = await Table_().LoadAsync(id);
        Assert.NotNull(saga);
        Assert.Equal(events, saga.Count);
        Assert.Equal(events + 1, saga.Version);
    }

    [Fact]
    public async Task An_exception_in_an_activity_rolls_back_and_leaves_the_stored_state()
    {
        var id = NewId.NextGuid();
        await using var bus = await StartBus();
        await bus.Publish(new CounterStarted(id, "rollback"));
        await bus.Consumed<CounterStarted>(id, 1);
        await bus.Publish(new CounterIncremented(id, 5));
        await bus.Consumed<CounterIncremented>(id, 1);

        await bus.Publish(new CounterExploded(id));
        var exploded = await bus.Consumed<CounterExploded>(id, 1);
        Assert.NotNull(exploded[0].Exception);

        var row = Assert.Single(await Table_().QueryRowsAsync("correlation_id = @id", new { id }));
        Assert.Equal("Active", row.CurrentState);
        Assert.Equal(5, row.Saga.Count);
        Assert.Equal("rollback", row.Saga.Name);
        Assert.Equal(2, row.Version);

        // The row is not left locked, and later messages work on the old state.
        await bus.Publish(new CounterIncremented(id, 1));
        var consumed = await bus.Consumed<CounterIncremented>(id, 2);
        Assert.All(consumed, c => Assert.Null(c.Exception));
        Assert.Equal(6, (await Table_().LoadAsync(id))!.Count);
    }

    [Fact]
    public async Task A_failing_initiating_message_stores_nothing()
    {
        var id = NewId.NextGuid();
        await using var bus = await StartBus();
        await bus.Publish(new CounterExploded(id));
        var exploded = await bus.Consumed<CounterExploded>(id, 1);
        Assert.NotNull(exploded[0].Exception);
        Assert.Null(await Table_().LoadAsync(id));
    }

    [Fact]
    public async Task Duplicate_initiating_messages_create_one_instance()
    {
        const int duplicates = 10;
        var id = NewId.NextGuid();
        await using var bus = await StartBus(concurrency: 16);

        await Task.WhenAll(Enumerable.Range(0, duplicates).Select(_ => bus.Publish(new CounterStarted(id, "duplicate"))));
        var consumed = await bus.Consumed<CounterStarted>(id, duplicates);

        Assert.All(consumed, c => Assert.Null(c.Exception));
        var row = Assert.Single(await Table_().QueryRowsAsync("correlation_id = @id", new { id }));
        Assert.Equal(duplicates - 1, row.Saga.DuplicateStarts);
        Assert.Equal(duplicates, row.Version);
    }

    [Fact]
    public async Task Finalize_deletes_the_row()
    {
        var id = NewId.NextGuid();
        await using var bus = await StartBus();
        await bus.Publish(new CounterStarted(id, "finalize"));
        await bus.Consumed<CounterStarted>(id, 1);
        Assert.NotNull(await Table_().LoadAsync(id));

        await bus.Publish(new CounterFinished(id));
        var finished = await bus.Consumed<CounterFinished>(id, 1);
        Assert.Null(finished[0].Exception);
        Assert.Null(await Table_().LoadAsync(id));
    }

    [Fact]
    public async Task Query_correlated_events_reach_the_matching_instance()
    {
        var id = NewId.NextGuid();
        var name = $"query-{id:N}";
        await using var bus = await StartBus();
        await bus.Publish(new CounterStarted(id, name));
        await bus.Consumed<CounterStarted>(id, 1);

        await bus.Publish(new CounterTagged(name, "red"));
        var tagged = await bus.ConsumedWhere<CounterTagged>(m => m.Name == name, 1);
        Assert.Null(tagged[0].Exception);
        Assert.Equal(["red"], (await Table_().LoadAsync(id))!.Tags);
    }

    [Fact]
    public async Task Sweep_query_finds_instances_by_state_and_age()
    {
        var id = NewId.NextGuid();
        await using var bus = await StartBus();
        await bus.Publish(new CounterStarted(id, "sweep"));
        await bus.Consumed<CounterStarted>(id, 1);

        var recent = await Table_().FindInStatesAsync(["Active"]);
        Assert.Contains(recent, r => r.CorrelationId == id && r.CurrentState == "Active");
        Assert.True(recent.Single(r => r.CorrelationId == id).UpdatedAt > DateTimeOffset.UtcNow.AddMinutes(-5));

        var stale = await Table_().FindInStatesAsync(["Active"], updatedBefore: DateTimeOffset.UtcNow.AddMinutes(-5));
        Assert.DoesNotContain(stale, r => r.CorrelationId == id);
        Assert.Empty(await Table_().FindInStatesAsync(["NoSuchState"]));

        // MassTransit's own load-by-id goes through the repository as well.
        var load = bus.Provider.GetRequiredService<ILoadSagaRepository<CounterState>>();
        Assert.Equal("sweep", (await load.Load(id))?.Name);
    }

    [Fact]
    public async Task Insert_on_initial_is_rolled_back_on_failure_and_tolerates_duplicates()
    {
        var table = new SagaTable<EagerState>(new PostgresSagaRepositoryOptions<EagerState>(EagerTable), _db.DataSource);
        await using var bus = await StartBus(concurrency: 16);

        // The row inserted before the state machine ran disappears with the rolled-back transaction.
        var failing = NewId.NextGuid();
        await bus.Publish(new EagerCreated(failing, Fail: true));
        var failed = await bus.ConsumedWhere<EagerCreated>(m => m.Id == failing, 1);
        Assert.NotNull(failed[0].Exception);
        Assert.Null(await table.LoadAsync(failing));

        // Concurrent duplicates: one insert wins, the others find the row (ON CONFLICT DO NOTHING, then load FOR UPDATE).
        var id = NewId.NextGuid();
        await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => bus.Publish(new EagerCreated(id, Fail: false))));
        var consumed = await bus.ConsumedWhere<EagerCreated>(m => m.Id == id, 10);
        Assert.All(consumed, c => Assert.Null(c.Exception));
        var row = Assert.Single(await table.QueryRowsAsync("correlation_id = @id", new { id }));
        Assert.Equal(10, row.Saga.Starts);
        Assert.Equal("Ready", row.CurrentState);
        Assert.Equal(11, row.Version); // inserted as 1, then every message updates
    }

    [Fact]
    public void Table_names_are_validated_and_the_migration_creates_the_table()
    {
        Assert.Throws<ArgumentException>(() => SagaTableMigration.For("video; DROP TABLE x"));
        Assert.Throws<ArgumentException>(() => SagaTableMigration.For("VideoJob"));
        var migration = SagaTableMigration.For("ingest.video_job_saga");
        Assert.Equal("saga-table-ingest.video_job_saga-v1", migration.Id);
        Assert.Contains("CREATE TABLE IF NOT EXISTS ingest.video_job_saga", migration.Sql);
    }

    SagaTable<CounterState> Table_() => new(new PostgresSagaRepositoryOptions<CounterState>(Table), _db.DataSource);

    async Task<TestBus> StartBus(int concurrency = 4)
    {
        var services = new ServiceCollection();
        services.AddSingleton(_db.DataSource);
        services.AddMassTransitTestHarness(x =>
        {
            x.ConfigureUsageTelemetryOptions(o => o.Enabled = false);
            x.SetTestTimeouts(testTimeout: Patience, testInactivityTimeout: TimeSpan.FromSeconds(5));
            x.AddSagaStateMachine<CounterStateMachine, CounterState>()
                .Endpoint(e =>
                {
                    e.ConcurrentMessageLimit = concurrency;
                    e.PrefetchCount = concurrency;
                })
                .PostgresRepository(Table);
            x.AddSagaStateMachine<EagerStateMachine, EagerState>()
                .Endpoint(e => e.ConcurrentMessageLimit = concurrency)
                .PostgresRepository(EagerTable);
        });
        var provider = services.BuildServiceProvider(true);
        var harness = provider.GetRequiredService<ITestHarness>();
        await harness.Start();
        return new TestBus(provider, harness);
    }

    sealed class TestBus(ServiceProvider provider, ITestHarness harness) : IAsyncDisposable
    {
        public ServiceProvider Provider => provider;

        public Task Publish<T>(T message) where T : class => harness.Bus.Publish(message);

        public Task<List<IReceivedMessage<T>>> Consumed<T>(Guid counterId, int count) where T : class =>
            ConsumedWhere<T>(m => (Guid)typeof(T).GetProperty("CounterId")!.GetValue(m)! == counterId, count);

        /// <summary>
        /// Waits until <paramref name="count"/> matching messages were consumed (successfully or not). The bus-level list
        /// is used on purpose: it is notified after the saga repository committed, whereas the saga harness records the
        /// message while the transaction is still open.
        /// </summary>
        public async Task<List<IReceivedMessage<T>>> ConsumedWhere<T>(Func<T, bool> match, int count) where T : class
        {
            var received = new List<IReceivedMessage<T>>();
            using var timeout = new CancellationTokenSource(Patience);
            try
            {
                await foreach (var message in harness.Consumed.SelectAsync<T>(m => match(m.Context.Message), timeout.Token))
                {
                    received.Add(message);
                    if (received.Count == count) break;
                }
            }
            catch (OperationCanceledException)
            {
            }
            Assert.True(received.Count == count, $"consumed {received.Count} of {count} {typeof(T).Name}");
            return received;
        }

        public async ValueTask DisposeAsync()
        {
            await harness.Stop();
            await provider.DisposeAsync();
        }
    }
}
