"""PyTorch peer for `npm run bench:sft`: SFT steps (masked next-token loss, AdamW, clip) of the
same GPT-2-style model on the same packed batches, starting from chatforge's initial weights.
Prints one JSON line with the timed steps' wall and CPU times and every step's loss. Written for
chatforge (not copied); the model is the textbook pre-LayerNorm GPT-2 with tied embeddings, like
src/model/gpt2.ts, with module names matching chatforge's parameter names so that the weights
load by name. AdamW keeps PyTorch 1.13's default per-tensor loop (foreach=False): on this model
its clip + step measured 14 ms against 36 ms with foreach=True.

usage: python3 torch_sft.py WEIGHTS BATCHES VOCAB D LAYERS HEADS CTX BATCH STEPS WARMUP THREADS LR WD

WEIGHTS: safetensors (F32, chatforge's own layout: linear weights [out, in] like nn.Linear).
BATCHES: int32 little-endian, per step x (BATCH*CTX) then y (BATCH*CTX), y = -1 not trained on.
"""
import json
import math
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Attention(nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.h = h
        self.c_attn = nn.Linear(d, 3 * d)
        self.c_proj = nn.Linear(d, d)


class Mlp(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.c_fc = nn.Linear(d, 4 * d)
        self.c_proj = nn.Linear(4 * d, d)


class Block(nn.Module):
    def __init__(self, d, h, ctx):
        super().__init__()
        self.register_buffer(
            "mask", torch.tril(torch.ones(ctx, ctx)).view(1, 1, ctx, ctx), persistent=False
        )
        self.ln_1 = nn.LayerNorm(d)
        self.attn = Attention(d, h)
        self.ln_2 = nn.LayerNorm(d)
        self.mlp = Mlp(d)

    def forward(self, x):
        B, T, C = x.shape
        h = self.attn.h
        q, k, v = self.attn.c_attn(self.ln_1(x)).split(C, dim=2)
        q = q.view(B, T, h, C // h).transpose(1, 2)
        k = k.view(B, T, h, C // h).transpose(1, 2)
        v = v.view(B, T, h, C // h).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(self.mask[:, :, :T, :T] == 0, float("-inf"))
        y = F.softmax(att, dim=-1) @ v
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        x = x + self.attn.c_proj(y)
        return x + self.mlp.c_proj(F.gelu(self.mlp.c_fc(self.ln_2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(self, V, d, L, h, ctx):
        super().__init__()
        self.transformer = nn.ModuleDict(
            {
                "wte": nn.Embedding(V, d),
                "wpe": nn.Embedding(ctx, d),
                "h": nn.ModuleList([Block(d, h, ctx) for _ in range(L)]),
                "ln_f": nn.LayerNorm(d),
            }
        )

    def forward(self, idx, targets):
        t = self.transformer
        B, T = idx.shape
        x = t.wte(idx) + t.wpe(torch.arange(T))
        for b in t.h:
            x = b(x)
        logits = t.ln_f(x) @ t.wte.weight.t()
        # mean over the targets that are not -1, like chatforge's crossEntropy
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)


def read_safetensors(path):
    """The F32 tensors of a safetensors file (8-byte header length, JSON header, data)."""
    with open(path, "rb") as f:
        buf = f.read()
    n = int.from_bytes(buf[:8], "little")
    header = json.loads(buf[8 : 8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "F32":
            raise ValueError(f"{name}: dtype {info['dtype']}, expected F32")
        a, b = info["data_offsets"]
        arr = np.frombuffer(buf, dtype="<f4", count=(b - a) // 4, offset=base + a)
        out[name] = torch.from_numpy(arr.copy()).view(info["shape"])
    return out


def main():
    weights, batches = sys.argv[1:3]
    V, d, L, h, ctx, B, steps, warmup, threads = map(int, sys.argv[3:12])
    lr, wd = float(sys.argv[12]), float(sys.argv[13])
    torch.set_num_threads(threads)
    model = GPT(V, d, L, h, ctx)
    model.load_state_dict(read_safetensors(weights), strict=True)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": wd}, {"params": no_decay, "weight_decay": 0.0}],
        lr=lr,
        betas=(0.9, 0.95),
        eps=1e-8,
    )
    n = steps + warmup
    data = np.fromfile(batches, dtype="<i4")
    if data.size != n * 2 * B * ctx:
        raise ValueError(f"{batches}: {data.size} ids, expected {n * 2 * B * ctx}")
    data = torch.from_numpy(data.astype(np.int64)).view(n, 2, B, ctx)
    xs = [data[i, 0].contiguous() for i in range(n)]
    ys = [data[i, 1].contiguous() for i in range(n)]
    times = []
    cpu = []
    losses = []
    for i in range(n):
        t0 = time.perf_counter()
        c0 = time.process_time()
        loss = model(xs[i], ys[i])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        losses.append(float(loss))
        dt = time.perf_counter() - t0
        if i >= warmup:
            times.append(dt)
            cpu.append(time.process_time() - c0)
    print(json.dumps({
        "torch": torch.__version__,
        "params": sum(p.numel() for p in model.parameters()),
        "times_ms": [t * 1000 for t in times],
        "cpu_ms": [c * 1000 for c in cpu],
        "losses": losses,
    }))


if __name__ == "__main__":
    main()
