using Microsoft.Extensions.Hosting;
using Morlaif.Hosting;
using Morlaif.Workers;

var builder = Host.CreateApplicationBuilder(args);
builder.AddMorlaifDefaults(WorkerRegistration.Evaluator);
builder.Build().Run();
