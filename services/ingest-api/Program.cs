using Vidline.IngestApi;
using Vidline.IngestApi.Apis;
using Vidline.Media;
using Vidline.ServiceDefaults;
using Vidline.ServiceDefaults.Limits;
using Vidline.ServiceDefaults.Tenancy;
using Vidline.StageWorker;

var builder = WebApplication.CreateBuilder(args);

// Configuration
builder.AddServiceDefaults("ingest-api");
builder.AddVidlineDatabase();
builder.AddTenantAuthentication();
builder.AddVidlineMedia();
builder.AddIngest();
builder.AddApiLimits();
builder.Services.AddOpenApi(o => o.DescribeApiKeys()); // /openapi/v1.json; the gateway merges it into the edge's /openapi.json

// MassTransit: the VideoJob saga, persisted in PostgreSQL, and the owner of every job's files
builder.AddVidlineBus(x => x.AddIngestMessaging());

var app = builder.Build();
await IngestDatabase.MigrateAsync(app.Services);
await StageQueueTopology.DeclareAsync(app.Configuration);

// Endpoints
app.MapDefaultEndpoints();
app.UseCrossOrigin();          // first: a CORS preflight carries no key
app.UseTenantAuthentication();
app.UseApiLimits();            // after authentication: a rate limit counts against the tenant
app.MapIngestApi();
app.MapOpenApi().AllowAnonymous();
app.Run();

public partial class Program;
