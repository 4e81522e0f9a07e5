using System.Diagnostics;
using System.Text.Json.Nodes;
using Morlaif.Workers;
using Morlaif.Workers.Pipeline;

namespace Morlaif.Integration.Tests;

/// <summary>
/// No cluster runs here, so infra/k8s is checked by infra/k8s/validate.mjs (every document against the Kubernetes and
/// KEDA schemas of npm kubernetes-models, unknown fields included, and each kustomization built and checked again;
/// tests/run.sh installs the packages) and cross-checked here with the code: the queues KEDA scales on are the ones
/// the workers declare, the images are the worker projects, the probes are the health endpoints.
/// </summary>
public class KubernetesManifestTests
{
    private static readonly string K8s = Path.Combine(Processes.RepoRoot, "infra", "k8s");
    private static readonly string[] Overlays = ["infra/k8s/overlays/production", "infra/k8s/overlays/dev", "infra/k8s/overlays/gpu"];

    private static (int Exit, string Stdout, string Stderr) Validate(string dir, bool json = false)
    {
        var node = Path.Combine(Processes.RepoRoot, ".infra", "node", "node_modules", "kubernetes-models");
        Assert.True(Directory.Exists(node), $"{node} is missing: tests/run.sh installs it");
        var psi = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(K8s, "validate.mjs"));
        psi.ArgumentList.Add(dir);
        if (json) psi.ArgumentList.Add("--json");
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr);
    }

    private static readonly Lazy<JsonObject> Builds = new(() =>
    {
        var (exit, stdout, stderr) = Validate(K8s, json: true);
        Assert.True(exit == 0, stderr);
        return JsonNode.Parse(stdout)!["builds"]!.AsObject();
    });

    private static IEnumerable<JsonObject> Resources(string overlay, string kind) =>
        Builds.Value[overlay]!.AsArray().Select(r => r!.AsObject()).Where(r => (string?)r["kind"] == kind);

    private static string Name(JsonNode r) => (string)r["metadata"]!["name"]!;

    /// <summary>A container's environment variable, from its env or from a ConfigMap its envFrom names.</summary>
    private static string? Env(string overlay, JsonNode container, string name)
    {
        if (container["env"]?.AsArray().FirstOrDefault(e => (string?)e!["name"] == name) is { } e) return (string?)e["value"];
        foreach (var from in container["envFrom"]?.AsArray() ?? [])
            if ((string?)from!["configMapRef"]?["name"] is { } map
                && Resources(overlay, "ConfigMap").FirstOrDefault(c => Name(c) == map)?["data"]?[name] is { } value)
                return (string?)value;
        return null;
    }

    private static string Pascal(string kebab) => string.Concat(kebab.Split('-').Select(w => char.ToUpperInvariant(w[0]) + w[1..]));

    [Fact]
    public void Every_manifest_passes_the_kubernetes_and_keda_schemas()
    {
        var (exit, _, stderr) = Validate(K8s);
        Assert.True(exit == 0, stderr);
        Assert.Contains("valid", stderr);
        foreach (var overlay in Overlays) Assert.True(Builds.Value.ContainsKey(overlay), overlay);
    }

    [Fact]
    public void The_validator_does_reject_broken_manifests_naming_the_field()
    {
        // Proves the check above can fail: a copy with a misspelt field (which the OpenAPI schemas alone accept),
        // a wrong type, and a misspelt field in a patch that only the built overlay shows.
        var copy = Path.Combine(Path.GetTempPath(), $"k8s-{Guid.NewGuid():N}");
        foreach (var file in Directory.EnumerateFiles(K8s, "*.yaml", SearchOption.AllDirectories))
        {
            var target = Path.Combine(copy, Path.GetRelativePath(K8s, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        try
        {
            void Edit(string file, string from, string to)
            {
                var path = Path.Combine(copy, file);
                var text = File.ReadAllText(path);
                Assert.Contains(from, text);
                File.WriteAllText(path, text.Replace(from, to));
            }
            Edit("base/labeller.yaml", "terminationGracePeriodSeconds: 60", "terminationGracePeriodSecond: 60");
            Edit("base/evaluator.yaml", "maxReplicaCount: 2", "maxReplicaCount: two");
            Edit("overlays/gpu/gpu-ppo-learner.yaml", "nodeSelector:", "nodeSelectr:");
            var (exit, _, stderr) = Validate(copy);
            Assert.NotEqual(0, exit);
            Assert.Contains("base/labeller.yaml: document 1 (Deployment labeller): spec.template.spec.terminationGracePeriodSecond: unknown field", stderr);
            Assert.Contains("base/evaluator.yaml: document 2 (ScaledObject evaluator): spec.maxReplicaCount: must be integer", stderr);
            Assert.Contains("patched by", stderr);
            Assert.Contains("spec.template.spec.nodeSelectr: unknown field", stderr);
        }
        finally
        {
            Directory.Delete(copy, recursive: true);
        }
    }

    [Fact]
    public void Each_worker_scales_on_exactly_the_queues_of_its_stages_counting_unacked_messages()
    {
        foreach (var overlay in Overlays)
        {
            var scaled = Resources(overlay, "ScaledObject").ToList();
            Assert.Equal(WorkerRegistration.All.Order(), scaled.Select(Name).Order());
            foreach (var so in scaled)
            {
                var worker = Name(so);
                Assert.Equal(worker, (string?)so["spec"]!["scaleTargetRef"]!["name"]);
                var triggers = so["spec"]!["triggers"]!.AsArray().Select(t => t!).ToList();
                var queues = triggers.Select(t => (string)t["metadata"]!["queueName"]!).Order().ToList();
                // The stages this worker's hosts consume, from the pipeline's own table; never the fault queue.
                Assert.Equal(PipelineDefinition.Stages.Where(s => s.Worker == worker).Select(s => s.Queue).Order(), queues);
                Assert.DoesNotContain(Endpoints.RunFaults, queues);
                foreach (var t in triggers)
                {
                    Assert.Equal("rabbitmq", (string?)t["type"]);
                    // The management API counts ready + unacknowledged messages; AMQP only the ready ones.
                    Assert.Equal("http", (string?)t["metadata"]!["protocol"]);
                    Assert.Equal("QueueLength", (string?)t["metadata"]!["mode"]);
                    Assert.Null(t["metadata"]!["excludeUnacknowledged"]);
                    var auth = (string)t["authenticationRef"]!["name"]!;
                    Assert.Contains(Resources(overlay, "TriggerAuthentication"), a => Name(a) == auth);
                }
                // Only the scalarizer stays up (it sweeps for stalled runs when the others are at zero).
                Assert.Equal(worker == WorkerRegistration.Scalarizer ? 1 : 0, (int)so["spec"]!["minReplicaCount"]!);
            }
        }
    }

    [Fact]
    public void Each_deployment_runs_a_worker_project_with_health_probes_and_a_grace_period_longer_than_its_shutdown()
    {
        foreach (var overlay in Overlays)
        {
            var workers = Resources(overlay, "Deployment").Where(d => WorkerRegistration.All.Contains(Name(d))).ToList();
            Assert.Equal(WorkerRegistration.All.Length, workers.Count);
            foreach (var d in workers)
            {
                var worker = Name(d);
                var pod = d["spec"]!["template"]!["spec"]!;
                var container = pod["containers"]!.AsArray().Single()!;
                // morlaif-<worker>[:tag], after any registry: services/Dockerfile built with WORKER=Morlaif.<Worker>.
                var image = ((string)container["image"]!).Split('/')[^1].Split(':')[0];
                Assert.Equal($"morlaif-{worker}", image);
                var project = $"Morlaif.{Pascal(worker)}";
                Assert.True(File.Exists(Path.Combine(Processes.RepoRoot, "services", project, $"{project}.csproj")), $"{overlay} {worker}: no {project}");

                var port = Env(overlay, container, "Morlaif__Health__Port");
                Assert.False(string.IsNullOrEmpty(port), $"{overlay} {worker}: Morlaif__Health__Port is not set");
                foreach (var (probe, path) in new[] { ("livenessProbe", "/healthz"), ("readinessProbe", "/readyz") })
                {
                    var get = container[probe]?["httpGet"];
                    Assert.True(get is not null, $"{overlay} {worker}: no {probe}");
                    Assert.Equal(path, (string?)get["path"]);
                    var probePort = get["port"]!.ToString();
                    // A named port is resolved through the container's ports.
                    if (!int.TryParse(probePort, out _))
                        probePort = container["ports"]!.AsArray().Single(p => (string?)p!["name"] == probePort)!["containerPort"]!.ToString();
                    Assert.Equal(port, probePort);
                }

                var grace = (int)pod["terminationGracePeriodSeconds"]!;
                var shutdown = int.Parse(Env(overlay, container, "Morlaif__ShutdownTimeoutSeconds")!);
                Assert.True(grace > shutdown, $"{overlay} {worker}: grace {grace} s is not longer than the shutdown timeout {shutdown} s");
                // A PM epoch or a PPO iteration on a real model takes minutes: the long stages' workers wait for it.
                if (PipelineDefinition.Stages.Any(s => s.Worker == worker && s.Long)) Assert.True(shutdown >= 300, $"{worker}: {shutdown} s");
            }
        }
        // The GPU overlay gives exactly the long-stage workers a GPU and CUDA.
        foreach (var d in Resources("infra/k8s/overlays/gpu", "Deployment").Where(d => WorkerRegistration.All.Contains(Name(d))))
        {
            var container = d["spec"]!["template"]!["spec"]!["containers"]![0]!;
            var gpu = PipelineDefinition.Stages.Any(s => s.Worker == Name(d) && s.Long);
            Assert.Equal(gpu, container["resources"]?["limits"]?["nvidia.com/gpu"] is not null);
            Assert.Equal(gpu ? "cuda" : "cpu", Env("infra/k8s/overlays/gpu", container, "Morlaif__Device"));
        }
    }

    [Fact]
    public void No_secret_holds_a_real_looking_value()
    {
        var (_, stdout, _) = Validate(K8s, json: true);
        var secrets = JsonNode.Parse(stdout)!["files"]!.AsObject()
            .SelectMany(f => f.Value!.AsArray().Select(d => (File: f.Key, Doc: d!)))
            .Where(x => (string?)x.Doc["kind"] == "Secret").ToList();
        Assert.NotEmpty(secrets); // the templates of secrets.example.yaml
        foreach (var (file, doc) in secrets)
        {
            // Templates only: no base64 data block; every value a placeholder, whole or inside a URI or connection string.
            Assert.Null(doc["data"]);
            foreach (var (key, value) in doc["stringData"]!.AsObject())
            {
                var text = (string)value!;
                Assert.True(text.Contains("REPLACE_ME"), $"{file} {Name(doc)}.{key} is not a placeholder");
                var withoutPlaceholders = text.Replace("REPLACE_ME", "");
                Assert.DoesNotMatch(@"(?=[A-Za-z0-9+/]*[0-9])[A-Za-z0-9+/]{32,}={0,2}", withoutPlaceholders); // no key material (base64 with digits)
                Assert.DoesNotMatch(@"://[^:/@]+:[^@]+@", withoutPlaceholders); // no user:password in a URI
                Assert.DoesNotMatch(@"AccountKey=[^;]", withoutPlaceholders);
            }
        }
        // No kustomization applies a Secret: an `apply -k` must never overwrite the real ones with placeholders.
        foreach (var overlay in Builds.Value.Select(b => b.Key)) Assert.Empty(Resources(overlay, "Secret"));
    }
}
