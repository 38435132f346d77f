using MassTransit;

namespace Vidline.IngestApi.Tests.Persistence
{
    /// <summary>A small saga for exercising the PostgreSQL repository.</summary>
    public class CounterState : SagaStateMachineInstance, ISagaVersion
    {
        public Guid CorrelationId { get; set; }
        public string CurrentState { get; set; } = "";
        public int Version { get; set; }
        public string? Name { get; set; }
        public int Count { get; set; }
        public int DuplicateStarts { get; set; }
        public List<string> Tags { get; set; } = [];
    }

    public class CounterStateMachine : MassTransitStateMachine<CounterState>
    {
        public CounterStateMachine()
        {
            InstanceState(x => x.CurrentState);

            Event(() => Started, e => e.CorrelateById(m => m.Message.CounterId));
            Event(() => Incremented, e => e.CorrelateById(m => m.Message.CounterId));
            Event(() => Exploded, e => e.CorrelateById(m => m.Message.CounterId));
            Event(() => Finished, e => e.CorrelateById(m => m.Message.CounterId));
            Event(() => Tagged, e =>
            {
                // Query correlation (CorrelateBy): exercises SendQuery.
                e.CorrelateBy((saga, m) => saga.Name == m.Message.Name);
            });

            Initially(
                When(Started)
                    .Then(c => c.Saga.Name = c.Message.Name)
                    // Widens the window between "not found" and the insert, so duplicate starts really race.
                    .ThenAsync(_ => Task.Delay(50))
                    .TransitionTo(Active),
                When(Exploded)
                    // A new instance whose first message fails: nothing may be stored.
                    .Then(c => c.Saga.Name = "doomed")
                    .TransitionTo(Active)
                    .Then(_ => throw new InvalidOperationException("boom on create")));

            During(Active,
                When(Started).Then(c => c.Saga.DuplicateStarts++),
                When(Incremented).Then(c => c.Saga.Count += c.Message.By),
                When(Tagged).Then(c => c.Saga.Tags.Add(c.Message.Tag)),
                When(Exploded)
                    .Then(c =>
                    {
                        c.Saga.Count += 1000;
                        c.Saga.Name = "exploded";
                    })
                    .TransitionTo(Broken)
                    .Then(_ => throw new InvalidOperationException("boom")),
                When(Finished).Finalize());

            SetCompletedWhenFinalized();
        }

        public State Active { get; private set; } = null!;
        public State Broken { get; private set; } = null!;

        public Event<CounterStarted> Started { get; private set; } = null!;
        public Event<CounterIncremented> Incremented { get; private set; } = null!;
        public Event<CounterExploded> Exploded { get; private set; } = null!;
        public Event<CounterFinished> Finished { get; private set; } = null!;
        public Event<CounterTagged> Tagged { get; private set; } = null!;
    }

    public record CounterStarted(Guid CounterId, string Name);
    public record CounterIncremented(Guid CounterId, int By);
    public record CounterExploded(Guid CounterId);
    public record CounterFinished(Guid CounterId);
    public record CounterTagged(string Name, string Tag);
}
