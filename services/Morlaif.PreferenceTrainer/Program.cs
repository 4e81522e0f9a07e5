using Microsoft.Extensions.Hosting;
using Morlaif.Hosting;
using Morlaif.Workers;

var builder = WorkerHost.CreateBuilder(args);
builder.AddMorlaifDefaults(WorkerRegistration.PreferenceTrainer);
builder.Build().Run();
