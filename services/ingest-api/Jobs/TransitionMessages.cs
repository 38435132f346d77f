using MassTransit;
using Vidline.IngestApi.Persistence;

namespace Vidline.IngestApi.Jobs;

/// <summary>
/// Where a transition's messages go. On the PostgreSQL repository they are written to the outbox in the job's own
/// transaction (<see cref="VideoJobTransaction"/>, a payload of the saga's context) and delivered after the commit by
/// <see cref="OutboxDispatcher"/>: they exist exactly when the new state does. A repository without a transaction
/// (the in-memory one the state machine's unit tests run on) has nothing to be atomic with: there they go straight
/// to the bus.
/// </summary>
public static class TransitionMessages
{
    public static Task PublishAsync(BehaviorContext<VideoJobState> context, object message) =>
        context.TryGetPayload<VideoJobTransaction>(out var transaction)
            ? transaction.WriteToOutboxAsync(OutboxMessage.Of(context.Saga.CorrelationId, message), context.CancellationToken)
            : context.Publish(message, message.GetType(), context.CancellationToken);

    /// <summary>Sends <paramref name="message"/> to <paramref name="destination"/> with a RabbitMQ priority (0–9).</summary>
    public static async Task SendAsync(BehaviorContext<VideoJobState> context, Uri destination, object message, byte priority)
    {
        if (context.TryGetPayload<VideoJobTransaction>(out var transaction))
        {
            await transaction.WriteToOutboxAsync(OutboxMessage.Of(context.Saga.CorrelationId, message, destination, priority), context.CancellationToken);
            return;
        }
        var endpoint = await context.GetSendEndpoint(destination);
        await endpoint.Send(message, message.GetType(), send => send.SetRabbitMqPriority(priority), context.CancellationToken);
    }

    /// <summary>
    /// Answers the request being handled (cancel, retry, an upload handed over): the API's request client matches the
    /// answer by RequestId. The same message sent as a plain event (nobody waits for an answer) gets none.
    /// </summary>
    public static Task RespondAsync(BehaviorContext<VideoJobState> context, object message) =>
        context.RequestId is null || context.ResponseAddress is null ? Task.CompletedTask
        : context.TryGetPayload<VideoJobTransaction>(out var transaction)
            ? transaction.WriteToOutboxAsync(
                OutboxMessage.Of(context.Saga.CorrelationId, message, context.ResponseAddress, requestId: context.RequestId), context.CancellationToken)
            : context.RespondAsync(message, message.GetType());

    /// <summary>Higher-priority jobs jump a stage's queue (RabbitMQ x-max-priority); other transports have no priority.</summary>
    public static void SetRabbitMqPriority(this SendContext send, byte priority)
    {
        if (send.TryGetPayload<RabbitMqSendContext>(out var rabbit)) rabbit.SetPriority(priority);
    }
}
