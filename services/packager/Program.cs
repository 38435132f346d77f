using Vidline.Contracts;
using Vidline.Media;
using Vidline.Packager;
using Vidline.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);

// Configuration
builder.AddServiceDefaults();
builder.AddVidlineMedia();
builder.AddStageWorker();

// MassTransit: packaging ("package") and storage ("store") are separate stages with their own queues
builder.AddVidlineBus(x =>
{
    x.AddConsumer<PackageRenditionsConsumer>().Endpoint(e => e.Name = StageQueues.Package);
    x.AddConsumer<StoreOutputsConsumer>().Endpoint(e => e.Name = StageQueues.Store);
    x.AddCancellationListener("packager");
    x.AddConfigureEndpointsCallback((name, endpoint) =>
    {
        if (name is StageQueues.Package or StageQueues.Store)
            StageQueueTopology.ConfigureStageEndpoint(endpoint, builder.Configuration.StageConcurrency());
    });
});

// Endpoints
var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();
