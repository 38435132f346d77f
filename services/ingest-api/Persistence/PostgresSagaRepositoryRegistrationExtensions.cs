using MassTransit;
using MassTransit.Configuration;
using MassTransit.Saga;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Npgsql;

namespace Vidline.IngestApi.Persistence;

public static class PostgresSagaRepositoryRegistrationExtensions
{
    /// <summary>
    /// Stores this saga in the PostgreSQL table <paramref name="tableName"/> (create it with
    /// <see cref="SagaTableMigration.For"/>), using the <see cref="NpgsqlDataSource"/> registered in DI unless
    /// <see cref="PostgresSagaRepositoryOptions{TSaga}.DataSource"/> says otherwise. Also registers
    /// <see cref="SagaTable{TSaga}"/> (singleton) for read-only queries.
    /// <code>x.AddSagaStateMachine&lt;VideoJobStateMachine, VideoJobState&gt;().PostgresRepository("video_job_saga");</code>
    /// </summary>
    public static ISagaRegistrationConfigurator<TSaga> PostgresRepository<TSaga>(this ISagaRegistrationConfigurator<TSaga> configurator,
        string tableName, Action<PostgresSagaRepositoryOptions<TSaga>>? configure = null)
        where TSaga : class, ISagaVersion
    {
        var options = new PostgresSagaRepositoryOptions<TSaga>(tableName);
        configure?.Invoke(options);

        configurator.Repository(services =>
        {
            services.RemoveAll<PostgresSagaRepositoryOptions<TSaga>>();
            services.RemoveAll<SagaTable<TSaga>>();
            services.AddSingleton(options);
            services.AddSingleton(provider => new SagaTable<TSaga>(options,
                options.DataSource?.Invoke(provider) ?? provider.GetRequiredService<NpgsqlDataSource>()));

            services.RegisterLoadSagaRepository<TSaga, PostgresSagaRepositoryContextFactory<TSaga>>();
            services.RegisterQuerySagaRepository<TSaga, PostgresSagaRepositoryContextFactory<TSaga>>();
            services.RegisterSagaRepository<TSaga, PostgresSagaDatabaseContext<TSaga>,
                SagaConsumeContextFactory<PostgresSagaDatabaseContext<TSaga>, TSaga>, PostgresSagaRepositoryContextFactory<TSaga>>();
        });
        return configurator;
    }
}
