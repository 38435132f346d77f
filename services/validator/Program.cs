using Microsoft.Extensions.Options;
using Vidline.Media;
using Vidline.ServiceDefaults;
using Vidline.StageWorker;
using Vidline.Validator;

var builder = WebApplication.CreateBuilder(args);

// Configuration
builder.AddServiceDefaults("validator");
builder.AddVidlineMedia();
builder.AddStageWorker();
builder.Services.Configure<QualityGateOptions>(builder.Configuration.GetSection("QualityGate"));
builder.Services.AddSingleton(sp => sp.GetRequiredService<IOptions<QualityGateOptions>>().Value);
builder.Services.AddSingleton<QualityGate>();
builder.Services.AddSingleton<RenditionInspector>();

// MassTransit: competing consumers on the validation queue
builder.AddVidlineBus(x =>
{
    x.AddStageConsumer<ValidateRenditionsConsumer>(builder.Configuration);
    x.AddCancellationListener("validator");
});

// Endpoints
var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();
