using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Morlaif.Learning.Checkpoints;
using Morlaif.Learning.Ppo;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Morlaif.Learning.Tests.Checkpoints;

public class CheckpointTests
{
    private sealed record Note(string Text, int Count, double Loss);

    private sealed class ConstantReward : IRewardModel
    {
        public double[] Score(IReadOnlyList<int[]> sequences) => sequences.Select(s => s.Length % 3 / 3.0).ToArray();
    }

    /// <summary>A PPO learner after one iteration: policy weights, AdamW moments and steps, scalars.</summary>
    private static (PpoLearner Learner, byte[] Bytes) LearnerCheckpoint()
    {
        var policy = Tiny.Policy(3);
        var learner = new PpoLearner(new WorldPpoPolicy(policy, policy.Clone()), new ConstantReward(),
            new PpoSettings { RolloutsPerIteration = 4, MaxNewTokens = 4, Epochs = 1, MiniBatches = 1 }, seed: 3);
        var prompt = Tiny.Tokenizer.EncodePrompt("what is the capital of japan ?");
        learner.Step([prompt, prompt, prompt, prompt]);
        return (learner, learner.SaveCheckpoint());
    }

    [Fact]
    public void Tensors_of_every_dtype_and_the_state_round_trip()
    {
        using var c = new Checkpoint("test");
        c.SetState(new Note("x", 3, double.NaN));
        c.Add("f32", tensor(new[] { 1.5f, -2f, 3.25f, 4f, 5f, 6f }, [2, 3]));
        c.Add("f64", tensor(new[] { Math.PI }));
        c.Add("i64", tensor(new long[] { long.MinValue, 7 }));
        c.Add("flag", tensor(new[] { true, false, true }));
        c.Add("scalar", tensor(42L));
        c.Add("empty", zeros(0, 4));
        using var back = Checkpoint.FromBytes(c.ToBytes(), "test");
        Assert.Equal(c.Tensors.Keys, back.Tensors.Keys);
        foreach (var (name, t) in c.Tensors)
        {
            Assert.Equal(t.dtype, back.Tensors[name].dtype);
            Assert.Equal(t.shape, back.Tensors[name].shape);
            Assert.Equal(t.bytes.ToArray(), back.Tensors[name].bytes.ToArray());
        }
        var note = back.GetState<Note>();
        Assert.Equal(("x", 3), (note.Text, note.Count));
        Assert.True(double.IsNaN(note.Loss));
        Assert.Equal(c.ToBytes(), back.ToBytes()); // deterministic: the same content, the same bytes (and hash)
    }

    /// <summary>
    /// The file is plain safetensors, checked by a reader that shares no code with ours: Python's standard
    /// library alone (8-byte little-endian header length, the JSON header, the raw bytes), as a PyTorch
    /// user's tools would see it.
    /// </summary>
    [Fact]
    public void A_learner_checkpoint_is_valid_safetensors_to_a_python_reader()
    {
        var (learner, bytes) = LearnerCheckpoint();
        using var _ = learner;
        var path = Path.Combine(Path.GetTempPath(), $"morlaif-{Guid.NewGuid():N}.safetensors");
        File.WriteAllBytes(path, bytes);
        try
        {
            const string script = """
                import json, struct, sys
                data = open(sys.argv[1], "rb").read()
                (n,) = struct.unpack("<Q", data[:8])
                header = json.loads(data[8:8 + n].decode("utf-8"))
                assert (8 + n) % 8 == 0, "tensor data is not 8-byte aligned"
                meta = header.pop("__metadata__")
                assert all(isinstance(v, str) for v in meta.values()), "metadata values must be strings"
                size = {"F64": 8, "F32": 4, "I64": 8, "I32": 4, "BOOL": 1, "U8": 1}
                body = data[8 + n:]
                spans = sorted(tuple(e["data_offsets"]) for e in header.values())
                end = 0
                for begin, stop in spans:
                    assert begin == end, "gap or overlap in tensor data"
                    end = stop
                assert end == len(body), "tensor data does not end where the file does"
                out = {}
                for name, e in header.items():
                    count = 1
                    for d in e["shape"]:
                        count *= d
                    begin, stop = e["data_offsets"]
                    assert stop - begin == count * size[e["dtype"]], name
                    out[name] = {"dtype": e["dtype"], "shape": e["shape"]}
                bias = header["value_head.bias"]
                first = struct.unpack("<f", body[bias["data_offsets"][0]:bias["data_offsets"][0] + 4])[0]
                step = header["optimizer.state.value_head.bias.step"]
                steps = struct.unpack("<q", body[step["data_offsets"][0]:step["data_offsets"][1]])[0]
                print(json.dumps({"tensors": out, "format": meta["format"], "document": json.loads(meta["morlaif"]),
                                  "value_head_bias": first, "value_head_bias_steps": steps}))
                """;
            var psi = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true };
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add(script);
            psi.ArgumentList.Add(path);
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEnd();
            var stderr = p.StandardError.ReadToEnd();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, stderr);

            var seen = JsonNode.Parse(stdout)!;
            var tensors = seen["tensors"]!.AsObject();
            var parameters = ((WorldPpoPolicy)learner.Actor).Model.state_dict();
            foreach (var (name, t) in parameters)
            {
                Assert.Equal("F32", (string)tensors[name]!["dtype"]!);
                Assert.Equal(t.shape, tensors[name]!["shape"]!.AsArray().Select(d => (long)d!));
                Assert.Equal(t.shape, tensors[$"optimizer.state.{name}.exp_avg"]!["shape"]!.AsArray().Select(d => (long)d!));
                Assert.Equal(t.shape, tensors[$"optimizer.state.{name}.exp_avg_sq"]!["shape"]!.AsArray().Select(d => (long)d!));
                Assert.Equal("I64", (string)tensors[$"optimizer.state.{name}.step"]!["dtype"]!);
                Assert.Empty(tensors[$"optimizer.state.{name}.step"]!["shape"]!.AsArray());
            }
            Assert.Equal(parameters.Count * 4, tensors.Count);
            Assert.Contains("trunk.blocks.0.attn.qkv.weight", parameters.Keys); // names are the modules' own, as in a state_dict
            Assert.Equal("pt", (string)seen["format"]!);
            var document = seen["document"]!;
            Assert.Equal(Checkpoint.Format, (string)document["format"]!);
            Assert.Equal(Checkpoint.Version, (int)document["version"]!);
            Assert.Equal(PpoLearner.CheckpointKind, (string)document["kind"]!);
            Assert.Equal(1, (int)document["state"]!["iteration"]!);
            Assert.Equal("AdamW", (string)document["optimizer"]!["type"]!);
            Assert.Equal(parameters["value_head.bias"].item<float>(), (float)(double)seen["value_head_bias"]!);
            Assert.Equal(1, (long)seen["value_head_bias_steps"]!); // one minibatch step so far
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Another_safetensors_reader_sees_the_same_tensors()
    {
        var (learner, bytes) = LearnerCheckpoint();
        using var _ = learner;
        var theirs = Safetensors.LoadStateDict(new MemoryStream(bytes));
        using var ours = Checkpoint.FromBytes(bytes, PpoLearner.CheckpointKind);
        Assert.Equal(ours.Tensors.Keys.Order(), theirs.Keys.Order());
        foreach (var (name, t) in ours.Tensors) Assert.Equal(t.bytes.ToArray(), theirs[name].bytes.ToArray());
    }

    public static TheoryData<string, byte[], string> BadFiles()
    {
        var (learner, good) = LearnerCheckpoint();
        learner.Dispose();
        byte[] WithHeader(string json, byte[]? body = null)
        {
            var h = Encoding.UTF8.GetBytes(json);
            var b = new byte[8 + h.Length + (body?.Length ?? 0)];
            BinaryPrimitives.WriteUInt64LittleEndian(b, (ulong)h.Length);
            h.CopyTo(b, 8);
            body?.CopyTo(b, 8 + h.Length);
            return b;
        }
        string Document(string kind, int version) => JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["__metadata__"] = new Dictionary<string, string>
            {
                ["morlaif"] = $$$"""{"format":"morlaif-checkpoint","version":{{{version}}},"kind":"{{{kind}}}","state":{"iteration":0,"klCoef":0,"rewardMean":0,"rewardVariance":1,"rewardCount":0}}""",
            },
        });
        string WithTensor(string document, string dtype)
        {
            var header = JsonNode.Parse(document)!.AsObject();
            header["w"] = new JsonObject { ["dtype"] = dtype, ["shape"] = new JsonArray(1), ["data_offsets"] = new JsonArray(0, 1) };
            return header.ToJsonString();
        }
        using var plain = new MemoryStream();
        Safetensors.SaveStateDict(plain, new Dictionary<string, Tensor> { ["w"] = ones(2) }, leaveOpen: true);
        return new TheoryData<string, byte[], string>
        {
            { "empty", [], "too short for a safetensors file" },
            { "text", "NOT-A-CHECKPOINT"u8.ToArray(), "not a safetensors file" },
            { "header past the end", WithHeader("{}")[..9], "not a safetensors file" },
            { "header not json", WithHeader("{nope"), "header is not JSON" },
            { "plain safetensors", plain.ToArray(), "has no 'morlaif' metadata" },
            { "another kind", WithHeader(Document("policy", 1)), "it is a 'policy' checkpoint" },
            { "another version", WithHeader(Document(PpoLearner.CheckpointKind, 2)), "format version 2 is not supported" },
            { "truncated", good[..^1], "bytes of tensor data" },
            { "unknown dtype", WithHeader(WithTensor(Document(PpoLearner.CheckpointKind, 1), "F8_E4M3"), [0]), "tensor 'w' has dtype 'F8_E4M3', which is not supported" },
        };
    }

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void A_file_that_is_not_this_kind_of_checkpoint_is_InvalidData_with_its_reason(string what, byte[] bytes, string reason)
    {
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.FromBytes(bytes, PpoLearner.CheckpointKind).Dispose());
        Assert.True(e.Message.Contains(reason), $"{what}: {e.Message}");
    }

    [Fact]
    public void Weights_for_another_shape_are_refused_by_name()
    {
        var small = Tiny.Policy(1).ToBytes();
        var e = Assert.Throws<InvalidDataException>(() => WorldPpoPolicy.LoadModel(small, Tiny.Policy(1)));
        Assert.Contains("it is a 'policy' checkpoint", e.Message);
        using var c = Checkpoint.FromBytes(small, "policy");
        var wide = Tiny.Policy(1, dModel: 48);
        var shape = Assert.Throws<InvalidDataException>(() => c.LoadModule(wide));
        Assert.Contains("trunk.", shape.Message);
        Assert.Contains("expected Float32 [", shape.Message);
    }
}
