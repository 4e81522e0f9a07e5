using Morlaif.Cli;
using Morlaif.Learning.Runs;
using Morlaif.Storage;
using Spectre.Console;

// morlaif <command> [options]; every usage or input error is one line on stderr and exit code 2, a server
// (RabbitMQ, blob storage) that cannot be reached one line and exit code 3.
try
{
    return args.FirstOrDefault() switch
    {
        "run" => await RunCommand.Execute(CliArguments.Parse(args[1..], RunCommand.Options)),
        "start" => await StartCommand.Execute(CliArguments.Parse(args[1..], StartCommand.Options)),
        "status" => await StatusCommand.Execute(CliArguments.Parse(args[1..], StatusCommand.Options, positional: 1)),
        "label" => await LabelCommand.Execute(CliArguments.Parse(args[1..], LabelCommand.Options)),
        "replay" => await ReplayCommand.Execute(CliArguments.Parse(args[1..], ReplayCommand.Options, positional: 1)),
        "generate" => GenerateCommand.Execute(CliArguments.Parse(args[1..], GenerateCommand.Options)),
        "sft" => SftCommand.Execute(CliArguments.Parse(args[1..], SftCommand.Options)),
        "export" => await ExportCommand.Execute(CliArguments.Parse(args[1..], ExportCommand.Options, positional: 1)),
        "experiment" => ExperimentCommand.Execute(CliArguments.Parse(args[1..], ExperimentCommand.Options)),
        null or "-h" or "--help" or "help" => Usage(0),
        var other => throw new UsageException($"unknown command '{other}' (known: run, start, status, replay, label, generate, sft, export, experiment)"),
    };
}
catch (Exception e) when (e is UsageException or ConfigException or RunNotFoundException or Morlaif.Feedback.Datasets.DatasetException)
{
    Console.Error.WriteLine($"morlaif: {e.Message}");
    return 2;
}
catch (Morlaif.Hosting.ServerUnreachableException e)
{
    Console.Error.WriteLine($"morlaif: {e.Message}");
    return 3;
}

static int Usage(int code)
{
    // The stage list comes from the pipeline's definition, as replay's own check does.
    AnsiConsole.WriteLine($$"""
        usage: morlaif run [--config FILE] [--out DIR] [--seed N] [--device cpu|cuda] [--dry-run]
               morlaif start [--config FILE] [--seed N] [--transport rabbitmq] [--storage azure|local] [--dry-run]
               morlaif status RUNID [--json] [--storage azure|local]
               morlaif replay RUNID --stage {{string.Join("|", Morlaif.Workers.Pipeline.PipelineDefinition.Names)}} [--principle P]
               morlaif label --input FILE --endpoint URL --model NAME --out DIR [--principles P1,P2|all]
                             [--principles-file F] [--api-key-env VAR] [--concurrency N]
               morlaif generate --model DIR --prompt TEXT [--max-new-tokens N] [--greedy | --temperature T
                             --top-p P] [--seed S] [--json] [--dtype fp32|fp16|bf16] [--device cpu|cuda]
                             [--adapter DIR]
               morlaif sft --model DIR --data FILE --out DIR [--epochs N] [--learning-rate X]
                             [--batch-size B] [--max-length L] [--seed S] [--device cpu|cuda]
                             [--lora R [--lora-alpha A]]
               morlaif export RUNID (--arm morlaif|baseline | --pm QUESTION) --out DIR [--storage azure|local]
               morlaif experiment --config FILE [--out DIR] [--device cpu|cuda]

          run     the embedded default: all five workers in this process on an in-memory bus and a
                  local folder (DIR/.store); writes DIR/<runId>/report.json and report.md (DIR: ./runs)
          start   publishes the start of a run to the broker; prints the run id on its last line
                  (--dry-run, on run or start: checks the config and its inputs, prints a text run's costs)
          status  each stage's state, durations and errors, from the run's manifest
          replay  re-issues a stage's command from its recorded inputs
          label   labels HH-RLHF or TRL JSONL with a judge on any OpenAI-compatible endpoint
          generate  a Hugging Face checkpoint folder's continuation of a prompt (--json: ids, logprobs, text)
          sft     fine-tunes a Hugging Face checkpoint on TRL SFT JSONL; writes a Hugging Face folder
                  (with --lora: a PEFT adapter folder, for generate --adapter)
          export  a text run's trained policy as a Hugging Face folder, or a PM as its PEFT adapter folder
          experiment  a grid of world runs (seeds, label budgets, scalarizations, baselines) in this
                  process, resumable, then experiment.json and experiment.md with 95% intervals (DIR: the
                  experiment file's folder/results)

        Connection strings: ConnectionStrings__rabbitmq, ConnectionStrings__blobs (default: the local
        servers of infra/local.sh).

        Exit codes: 0 done; 1 the run faulted; 2 a usage or input error (bad option, config, dataset, run
        id); 3 a server (RabbitMQ or blob storage) is unreachable or refuses the credentials: start,
        status and replay look at the servers they need first and give up within seconds, and start
        records no run it could not publish; 130 interrupted.
        """);
    return code;
}
