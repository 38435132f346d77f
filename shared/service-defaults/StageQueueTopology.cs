using MassTransit;
using Microsoft.Extensions.Configuration;
using RabbitMQ.Client;
using Vidline.Contracts;

namespace Vidline.ServiceDefaults;

/// <summary>
/// The stage queues are priority queues (x-max-priority) with competing consumers. RabbitMQ refuses to
/// redeclare a queue with different arguments, so the saga sends to the queue's exchange and both sides
/// declare the queue the same way here: whichever starts first, no command is dropped for want of a queue.
/// </summary>
public static class StageQueueTopology
{
    public static readonly IReadOnlyList<string> All = [StageQueues.Transcode, StageQueues.Validate, StageQueues.Package, StageQueues.Store];

    /// <summary>Where the saga sends a stage's commands.</summary>
    public static Uri AddressOf(string queue) => new($"exchange:{queue}");

    /// <summary>For a stage worker's receive endpoint: a priority queue, one message at a time per process.</summary>
    public static void ConfigureStageEndpoint(IReceiveEndpointConfigurator endpoint, int concurrency = 1)
    {
        if (endpoint is IRabbitMqReceiveEndpointConfigurator rabbit)
        {
            rabbit.SetQueueArgument("x-max-priority", (int)StageQueues.MaxPriority);
            rabbit.PrefetchCount = concurrency;
        }
        endpoint.ConcurrentMessageLimit = concurrency;
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
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var connection = await factory.CreateConnectionAsync(cancellationToken);
                await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
                foreach (var queue in All)
                {
                    await channel.ExchangeDeclareAsync(queue, ExchangeType.Fanout, durable: true, autoDelete: false, cancellationToken: cancellationToken);
                    await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false,
                        arguments: new Dictionary<string, object?> { ["x-max-priority"] = (int)StageQueues.MaxPriority },
                        cancellationToken: cancellationToken);
                    await channel.QueueBindAsync(queue, queue, "", cancellationToken: cancellationToken);
                }
                return;
            }
            catch (Exception) when (attempt < 30 && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
        }
    }
}
