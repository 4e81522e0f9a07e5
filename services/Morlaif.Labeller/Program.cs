using Microsoft.Extensions.Hosting;
using Morlaif.Hosting;
using Morlaif.Workers;

var builder = Host.CreateApplicationBuilder(args);
builder.AddMorlaifDefaults(WorkerRegistration.Labeller);
builder.Build().Run();
