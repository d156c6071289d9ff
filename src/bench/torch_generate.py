"""PyTorch peer for `npm run bench:generate`: loads the same GPT-2 weights (our safetensors, HF
layout) into a plain pre-LayerNorm GPT-2 with a KV cache and measures generation tokens/s at a
given batch size (prompt of P tokens, N new tokens, multinomial sampling at temperature 1).
Written for chatforge (not copied). Prints one JSON line.

usage: python3 torch_generate.py MODEL.safetensors D LAYERS HEADS BATCH PROMPT NEW THREADS
"""
import json
import math
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F


def load_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", info["dtype"]
        a, b = info["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data[a:b], dtype=np.float32).reshape(info["shape"]).copy())
    return out


def main():
    path, d, L, H, B, P, N, threads = sys.argv[1], *map(int, sys.argv[2:])
    torch.set_num_threads(threads)
    w = load_safetensors(path)
    hs = d // H
    wte, wpe = w["transformer.wte.weight"], w["transformer.wpe.weight"]
    V = wte.shape[0]
    blocks = []
    for i in range(L):
        p = f"transformer.h.{i}."
        blocks.append({k: w[p + k] for k in [
            "ln_1.weight", "ln_1.bias", "attn.c_attn.weight", "attn.c_attn.bias", "attn.c_proj.weight",
            "attn.c_proj.bias", "ln_2.weight", "ln_2.bias", "mlp.c_fc.weight", "mlp.c_fc.bias",
            "mlp.c_proj.weight", "mlp.c_proj.bias"]})
    lnf_w, lnf_b = w["transformer.ln_f.weight"], w["transformer.ln_f.bias"]
    k_cache = [torch.zeros(B, H, P + N, hs) for _ in range(L)]
    v_cache = [torch.zeros(B, H, P + N, hs) for _ in range(L)]

    def step(ids, t0):
        n = ids.shape[1]
        x = wte[ids] + wpe[t0:t0 + n]
        for l, b in enumerate(blocks):
            h = F.layer_norm(x, (d,), b["ln_1.weight"], b["ln_1.bias"])
            qkv = h @ b["attn.c_attn.weight"] + b["attn.c_attn.bias"]  # Conv1D layout [in, out]
            q, k, v = qkv.split(d, dim=2)
            q = q.view(B, n, H, hs).transpose(1, 2)
            k_cache[l][:, :, t0:t0 + n] = k.view(B, n, H, hs).transpose(1, 2)
            v_cache[l][:, :, t0:t0 + n] = v.view(B, n, H, hs).transpose(1, 2)
            K, Vv = k_cache[l][:, :, :t0 + n], v_cache[l][:, :, :t0 + n]
            att = (q @ K.transpose(-2, -1)) / math.sqrt(hs)
            if n > 1:
                mask = torch.ones(n, t0 + n).tril(diagonal=t0) == 0
                att = att.masked_fill(mask, float("-inf"))
            y = (F.softmax(att, dim=-1) @ Vv).transpose(1, 2).reshape(B, n, d)
            x = x + y @ b["attn.c_proj.weight"] + b["attn.c_proj.bias"]
            h = F.layer_norm(x, (d,), b["ln_2.weight"], b["ln_2.bias"])
            h = F.gelu(h @ b["mlp.c_fc.weight"] + b["mlp.c_fc.bias"], approximate="tanh")
            x = x + h @ b["mlp.c_proj.weight"] + b["mlp.c_proj.bias"]
        x = F.layer_norm(x[:, -1], (d,), lnf_w, lnf_b)
        return x @ wte.t()

    g = torch.Generator().manual_seed(0)
    prompt = torch.randint(0, V, (B, P), generator=g)
    with torch.no_grad():
        step(prompt, 0)  # warm-up
        t_start = time.perf_counter()
        logits = step(prompt, 0)
        t_prefill = time.perf_counter()
        for i in range(N):
            nxt = torch.multinomial(F.softmax(logits, dim=-1), 1, generator=g)
            if i < N - 1:
                logits = step(nxt, P + i)
        t_end = time.perf_counter()
    # decode rate: the N-1 steps after the prompt (each with its sampling), as the other peers count
    print(json.dumps({"tokensPerSecond": B * (N - 1) / (t_end - t_prefill), "prefillMs": 1000 * (t_prefill - t_start)}))


if __name__ == "__main__":
    main()
