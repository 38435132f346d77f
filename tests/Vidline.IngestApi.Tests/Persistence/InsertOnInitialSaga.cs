using MassTransit;

namespace Vidline.IngestApi.Tests.Persistence
{
    /// <summary>A saga whose initiating event uses InsertOnInitial: the repository inserts the row before the state machine runs.</summary>
    public class EagerState : SagaStateMachineInstance, ISagaVersion
    {
        public Guid CorrelationId { get; set; }
        public string CurrentState { get; set; } = "";
        public int Version { get; set; }
        public int Starts { get; set; }
    }

    public class EagerStateMachine : MassTransitStateMachine<EagerState>
    {
        public EagerStateMachine()
        {
            InstanceState(x => x.CurrentState);
            Event(() => Created, e =>
            {
                e.CorrelateById(m => m.Message.Id);
                e.InsertOnInitial = true;
                e.SetSagaFactory(c => new EagerState { CorrelationId = c.Message.Id });
            });

            Initially(
                When(Created)
                    .Then(c => c.Saga.Starts++)
                    .If(c => c.Message.Fail, b => b.Then(_ => throw new InvalidOperationException("boom after insert")))
                    .TransitionTo(Ready));
            During(Ready, When(Created).Then(c => c.Saga.Starts++));
        }

        public State Ready { get; private set; } = null!;
        public Event<EagerCreated> Created { get; private set; } = null!;
    }

    public record EagerCreated(Guid Id, bool Fail);
}
