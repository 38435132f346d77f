using MassTransit;
using Microsoft.Extensions.Configuration;
using Polly;
using Polly.Retry;
using RabbitMQ.Client;
using Vidline.Contracts;
using Vidline.ServiceDefaults;

namespace Vidline.StageWorker;

/// <summary>
/// The stage queues (one per worked stage in <see cref="Stages"/>) are priority queues (x-max-priority) with
/// competing consumers. RabbitMQ refuses to redeclare a queue with different arguments, so the saga sends to
/// the queue's exchange and both sides declare the queue the same way here: whichever starts first, no
/// command is dropped for want of a queue.
/// </summary>
public static class StageQueueTopology
{
    /// <summary>Where the saga sends a stage's commands.</summary>
    public static Uri AddressOf(PipelineStage stage) => new($"exchange:{stage.Queue}");

    /// <summary>
    /// A stage's consumer on its queue: a priority queue shared by every process of the stage, each taking
    /// <c>StageWork:Concurrency</c> messages at a time (1 by default: one ffmpeg per process).
    /// </summary>
    public static void AddStageConsumer<TConsumer>(this IBusRegistrationConfigurator bus, IConfiguration configuration)
        where TConsumer : class, IConsumer
    {
        var queue = Stages.StartedBy(CommandOf(typeof(TConsumer))).Queue;
        var concurrency = Math.Max(1, (configuration.GetSection("StageWork").Get<StageWorkOptions>() ?? new()).Concurrency);
        bus.AddConsumer<TConsumer>().Endpoint(e =>
        {
            e.Name = queue;
            e.PrefetchCount = concurrency;
            e.ConcurrentMessageLimit = concurrency;
        });
        bus.AddConfigureEndpointsCallback((name, endpoint) =>
        {
            if (name == queue && endpoint is IRabbitMqReceiveEndpointConfigurator rabbit)
                rabbit.SetQueueArgument("x-max-priority", (int)Stages.MaxPriority);
        });
    }

    /// <summary>Declares every stage queue (idempotent), retrying while the broker is still starting.</summary>
    public static async Task DeclareAsync(IConfiguration configuration, CancellationToken cancellationToken = default)
    {
        var options = configuration.GetSection("RabbitMq").Get<RabbitMqOptions>() ?? new RabbitMqOptions();
        var factory = new ConnectionFactory
        {
            HostName = options.Host, Port = options.Port, VirtualHost = options.VirtualHost,
            UserName = options.Username, Password = options.Password,
        };
        // The broker may still be starting (make run starts everything at once): keep trying for about a minute.
        var untilBrokerAnswers = new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<Exception>(e => e is not OperationCanceledException),
                MaxRetryAttempts = 30,
                Delay = TimeSpan.FromSeconds(2),
            })
            .Build();
        await untilBrokerAnswers.ExecuteAsync(async token =>
        {
            await using var connection = await factory.CreateConnectionAsync(token);
            await using var channel = await connection.CreateChannelAsync(cancellationToken: token);
            foreach (var queue in Stages.Worked.Select(s => s.Queue))
            {
                await channel.ExchangeDeclareAsync(queue, ExchangeType.Fanout, durable: true, autoDelete: false, cancellationToken: token);
                await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false,
                    arguments: new Dictionary<string, object?> { ["x-max-priority"] = (int)Stages.MaxPriority },
                    cancellationToken: token);
                await channel.QueueBindAsync(queue, queue, "", cancellationToken: token);
            }
        }, cancellationToken);
    }

    private static Type CommandOf(Type consumer) =>
        consumer.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IConsumer<>)
                                                     && typeof(IStageCommand).IsAssignableFrom(i.GetGenericArguments()[0]))
            ?.GetGenericArguments()[0]
        ?? throw new ArgumentException($"{consumer.Name} consumes no stage command.", nameof(consumer));
}
