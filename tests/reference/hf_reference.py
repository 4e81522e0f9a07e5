#!/usr/bin/env python3
"""An independent reference forward pass for Hugging Face GPT-2 and Llama-family (llama, mistral, qwen2)
checkpoints, in plain torch, written from reading transformers' modelling code (modeling_gpt2.py,
modeling_llama.py, modeling_qwen2.py, modeling_rope_utils.py), not copied from it, and sharing nothing with
the C# implementation it checks: it parses config.json and the safetensors files itself, computes attention
as an explicit softmax over a float mask (the C# side uses scaled_dot_product_attention with a boolean mask),
repeats kv heads by expand/reshape, and decodes greedily by recomputing the whole sequence every step (the C#
side uses its KV cache).

Input (stdin, JSON): {"folder": DIR, "ids": [[...], ...] (rows of any length), "greedy": N, "eos": [ids], "adapter": DIR (optional)}
Output (stdout, JSON): {"logits": [B][T_b][V], "greedy": [B][<=N] argmax continuation (ending at an eos id), "min_gap": smallest
top-1/top-2 logit gap seen while decoding (how close a tie came), "scores": [B] (only for an adapter with a "score" head)}.

An adapter is a PEFT LoRA folder (adapter_config.json + adapter_model.safetensors, written from reading peft's
save_and_load.py and tuners/lora/layer.py): each "base_model.model.<module>.lora_A.weight" / ".lora_B.weight" pair is
merged into "<module>.weight" as W += B A * lora_alpha / r (transposed when fan_in_fan_out, GPT-2's Conv1D), and a
modules_to_save "score" head [1, D] scores a row by its last position's final hidden state (the C# side adds the
low-rank term in the forward pass instead of merging).
Everything is computed in float32, whatever the stored dtype, as the C# loader does by default.
"""
import json
import math
import os
import struct
import sys

import torch

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n].decode("utf-8"))
    data = memoryview(raw)[8 + n :]
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        dtype = DTYPES[entry["dtype"]]
        if end == begin:
            t = torch.empty(entry["shape"], dtype=dtype)
        else:
            # frombuffer needs a writable buffer to avoid a warning; copy the slice.
            t = torch.frombuffer(bytearray(data[begin:end]), dtype=dtype).reshape(entry["shape"])
        out[name] = t.float()
    return out


def read_weights(folder):
    single = os.path.join(folder, "model.safetensors")
    if os.path.exists(single):
        return read_safetensors(single)
    with open(os.path.join(folder, "model.safetensors.index.json")) as f:
        weight_map = json.load(f)["weight_map"]
    weights = {}
    for shard in sorted(set(weight_map.values())):
        weights.update(read_safetensors(os.path.join(folder, shard)))
    return weights


def causal_bias(t):
    # 0 where a query may attend a key (key <= query), -inf above the diagonal.
    return torch.full((t, t), float("-inf")).triu(1)


def attend(q, k, v):
    # q, k, v: [B, H, T, d]
    scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1]) + causal_bias(q.shape[-2])
    return torch.softmax(scores, dim=-1) @ v


# ---------------------------------------------------------------- GPT-2

def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def gpt2_logits(cfg, w, ids, head=None):
    # GPT2LMHeadModel files name the trunk "transformer.*"; GPT2Model files have no prefix.
    def p(name):
        return w["transformer." + name] if "transformer." + name in w else w[name]

    d, heads = cfg["n_embd"], cfg["n_head"]
    eps = cfg.get("layer_norm_epsilon", 1e-5)
    act = {"gelu_new": gelu_new, "gelu_pytorch_tanh": gelu_new, "gelu": torch.nn.functional.gelu,
           "relu": torch.relu}[cfg.get("activation_function", "gelu_new")]
    b, t = ids.shape
    x = p("wte.weight")[ids] + p("wpe.weight")[torch.arange(t)][None]
    for i in range(cfg["n_layer"]):
        pre = f"h.{i}."
        h = torch.nn.functional.layer_norm(x, (d,), p(pre + "ln_1.weight"), p(pre + "ln_1.bias"), eps)
        # Conv1D: weight is [in, out], y = x W + b.
        qkv = h @ p(pre + "attn.c_attn.weight") + p(pre + "attn.c_attn.bias")
        q, k, v = qkv.split(d, dim=-1)
        q, k, v = [z.reshape(b, t, heads, d // heads).permute(0, 2, 1, 3) for z in (q, k, v)]
        a = attend(q, k, v).permute(0, 2, 1, 3).reshape(b, t, d)
        x = x + (a @ p(pre + "attn.c_proj.weight") + p(pre + "attn.c_proj.bias"))
        h = torch.nn.functional.layer_norm(x, (d,), p(pre + "ln_2.weight"), p(pre + "ln_2.bias"), eps)
        h = act(h @ p(pre + "mlp.c_fc.weight") + p(pre + "mlp.c_fc.bias"))
        x = x + (h @ p(pre + "mlp.c_proj.weight") + p(pre + "mlp.c_proj.bias"))
    x = torch.nn.functional.layer_norm(x, (d,), p("ln_f.weight"), p("ln_f.bias"), eps)
    if head is None:
        head = p("wte.weight") if cfg.get("tie_word_embeddings", True) else w["lm_head.weight"]
    return x @ head.T


# ---------------------------------------------------------------- Llama, Mistral, Qwen2

def rope_inv_freq(cfg, head_dim):
    params = cfg.get("rope_parameters")
    theta = (params or {}).get("rope_theta", cfg.get("rope_theta", 10000.0))
    inv = 1.0 / (theta ** (torch.arange(0, head_dim, 2).float() / head_dim))
    scaling = params if params is not None else cfg.get("rope_scaling")
    kind = None if scaling is None else scaling.get("rope_type", scaling.get("type"))
    if kind in (None, "default"):
        return inv
    assert kind == "llama3", kind
    factor = scaling["factor"]
    lo, hi = scaling["low_freq_factor"], scaling["high_freq_factor"]
    ctx = scaling["original_max_position_embeddings"]
    wavelen = 2 * math.pi / inv
    # Long wavelengths (low frequencies) are slowed by factor, short ones kept, the band between blended.
    slow = inv / factor
    blend = (ctx / wavelen - lo) / (hi - lo)
    mixed = (1 - blend) * slow + blend * inv
    out = torch.where(wavelen > ctx / lo, slow, inv)
    band = (wavelen >= ctx / hi) & (wavelen <= ctx / lo)
    return torch.where(band, mixed, out)


def rms_norm(x, weight, eps):
    return weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def rotate(x, cos, sin):
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    return x * cos + torch.cat((-x2, x1), dim=-1) * sin


def llama_logits(cfg, w, ids, head=None):
    model_type = cfg["model_type"]
    d = cfg["hidden_size"]
    heads = cfg["num_attention_heads"]
    kv = cfg.get("num_key_value_heads") or heads
    hd = cfg.get("head_dim") or d // heads
    eps = cfg.get("rms_norm_eps", 1e-6)
    b, t = ids.shape

    def lin(x, name, bias):
        y = x @ w[name + ".weight"].T
        if bias:
            y = y + w[name + ".bias"]
        return y

    attn_bias = cfg.get("attention_bias", False)
    qkv_bias = True if model_type == "qwen2" else (False if model_type == "mistral" else attn_bias)
    o_bias = False if model_type in ("qwen2", "mistral") else attn_bias
    mlp_bias = cfg.get("mlp_bias", False)

    inv = rope_inv_freq(cfg, hd)
    angles = torch.arange(t).float()[:, None] * inv[None, :]
    emb = torch.cat((angles, angles), dim=-1)
    cos, sin = emb.cos()[None, None], emb.sin()[None, None]

    x = w["model.embed_tokens.weight"][ids]
    for i in range(cfg["num_hidden_layers"]):
        pre = f"model.layers.{i}."
        h = rms_norm(x, w[pre + "input_layernorm.weight"], eps)
        q = lin(h, pre + "self_attn.q_proj", qkv_bias).view(b, t, heads, hd).transpose(1, 2)
        k = lin(h, pre + "self_attn.k_proj", qkv_bias).view(b, t, kv, hd).transpose(1, 2)
        v = lin(h, pre + "self_attn.v_proj", qkv_bias).view(b, t, kv, hd).transpose(1, 2)
        q, k = rotate(q, cos, sin), rotate(k, cos, sin)
        rep = heads // kv
        k = k[:, :, None].expand(b, kv, rep, t, hd).reshape(b, heads, t, hd)
        v = v[:, :, None].expand(b, kv, rep, t, hd).reshape(b, heads, t, hd)
        a = attend(q, k, v).transpose(1, 2).reshape(b, t, heads * hd)
        x = x + lin(a, pre + "self_attn.o_proj", o_bias)
        h = rms_norm(x, w[pre + "post_attention_layernorm.weight"], eps)
        g = lin(h, pre + "mlp.gate_proj", mlp_bias)
        u = lin(h, pre + "mlp.up_proj", mlp_bias)
        x = x + lin(torch.nn.functional.silu(g) * u, pre + "mlp.down_proj", mlp_bias)
    x = rms_norm(x, w["model.norm.weight"], eps)
    if head is None:
        head = w["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings", False) else w["lm_head.weight"]
    return x @ head.T


def apply_adapter(w, folder):
    """Merges a PEFT LoRA adapter into the weights w; returns its "score" head, if it has one."""
    with open(os.path.join(folder, "adapter_config.json")) as f:
        acfg = json.load(f)
    assert acfg["peft_type"] == "LORA" and acfg.get("bias", "none") == "none", acfg
    scale = acfg["lora_alpha"] / acfg["r"]
    tensors = read_safetensors(os.path.join(folder, "adapter_model.safetensors"))
    prefix = "base_model.model."
    for key, a in tensors.items():
        if not key.endswith(".lora_A.weight"):
            continue
        module = key[len(prefix) : -len(".lora_A.weight")]
        b = tensors[prefix + module + ".lora_B.weight"]
        delta = b @ a * scale
        if acfg.get("fan_in_fan_out", False):
            delta = delta.T
        name = module + ".weight"
        if name not in w and name.startswith("transformer."):
            name = name[len("transformer.") :]
        w[name] = w[name] + delta
    if "score" in (acfg.get("modules_to_save") or []):
        return tensors[prefix + "score.weight"]
    return None


def main():
    request = json.load(sys.stdin)
    folder = request["folder"]
    with open(os.path.join(folder, "config.json")) as f:
        cfg = json.load(f)
    w = read_weights(folder)
    score = apply_adapter(w, request["adapter"]) if request.get("adapter") else None
    forward = gpt2_logits if cfg["model_type"] == "gpt2" else llama_logits
    eos = set(request.get("eos", []))
    logits, greedy, scores, min_gap = [], [], [], float("inf")
    # One row at a time: rows may differ in length, and the reference needs no padding to be right.
    with torch.no_grad():
        for row in request["ids"]:
            ids = torch.tensor([row], dtype=torch.long)
            logits.append(forward(cfg, w, ids)[0].tolist())
            if score is not None:
                scores.append(forward(cfg, w, ids, head=score)[0, -1, 0].item())
            seq, out = ids, []
            for _ in range(request.get("greedy", 0)):
                last = forward(cfg, w, seq)[0, -1]
                top = last.topk(2).values
                min_gap = min(min_gap, (top[0] - top[1]).item())
                token = int(last.argmax())
                out.append(token)
                if token in eos:
                    break
                seq = torch.cat((seq, torch.tensor([[token]])), dim=1)
            greedy.append(out)
    out = {"logits": logits, "greedy": greedy, "min_gap": None if min_gap == float("inf") else min_gap}
    if score is not None:
        out["scores"] = scores
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
