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
    x.AddStageConsumer<PackageRenditionsConsumer>(StageQueues.Package, builder.Configuration);
    x.AddStageConsumer<StoreOutputsConsumer>(StageQueues.Store, builder.Configuration);
    x.AddCancellationListener("packager");
});

// Endpoints
var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();
