"""PyTorch peer for `npm run bench:train-step`: trains the same GPT-2-style model on random
tokens and prints one JSON line with tokens/s. Written for chatforge (not copied); the model is
the textbook pre-LayerNorm GPT-2 with tied embeddings, like src/model/gpt2.ts.

usage: python3 torch_train_step.py VOCAB D LAYERS HEADS CTX BATCH STEPS THREADS
"""
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, d, h, ctx):
        super().__init__()
        self.h = h
        self.register_buffer("mask", torch.tril(torch.ones(ctx, ctx)).view(1, 1, ctx, ctx))
        self.ln_1 = nn.LayerNorm(d)
        self.c_attn = nn.Linear(d, 3 * d)
        self.c_proj = nn.Linear(d, d)
        self.ln_2 = nn.LayerNorm(d)
        self.c_fc = nn.Linear(d, 4 * d)
        self.mlp_proj = nn.Linear(4 * d, d)

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(C, dim=2)
        q = q.view(B, T, self.h, C // self.h).transpose(1, 2)
        k = k.view(B, T, self.h, C // self.h).transpose(1, 2)
        v = v.view(B, T, self.h, C // self.h).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(self.mask[:, :, :T, :T] == 0, float("-inf"))
        y = F.softmax(att, dim=-1) @ v
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        x = x + self.c_proj(y)
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(self, V, d, L, h, ctx):
        super().__init__()
        self.wte = nn.Embedding(V, d)
        self.wpe = nn.Embedding(ctx, d)
        self.blocks = nn.ModuleList([Block(d, h, ctx) for _ in range(L)])
        self.ln_f = nn.LayerNorm(d)
        # GPT-2's initialisation, as in src/model/gpt2.ts: normal(0, 0.02), biases zero, the two
        # residual projections normal(0, 0.02 / sqrt(2 L)). (PyTorch's defaults start the tied
        # head at a loss of about 140 and its slow denormal arithmetic then dominates the steps.)
        for name, p in self.named_parameters():
            if name.endswith("bias"):
                nn.init.zeros_(p)
            elif p.dim() >= 2:
                proj = name.endswith("c_proj.weight") or name.endswith("mlp_proj.weight")
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * L) if proj else 0.02)

    def forward(self, idx, targets):
        B, T = idx.shape
        x = self.wte(idx) + self.wpe(torch.arange(T))
        for b in self.blocks:
            x = b(x)
        logits = self.ln_f(x) @ self.wte.weight.t()
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))


def main():
    V, d, L, h, ctx, B, steps, threads = map(int, sys.argv[1:9])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = GPT(V, d, L, h, ctx)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
        lr=3e-4,
    )
    x = torch.randint(0, V, (B, ctx))
    y = torch.randint(0, V, (B, ctx))
    times = []
    cpu = []
    for i in range(steps + 2):
        t0 = time.perf_counter()
        c0 = time.process_time()
        loss = model(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        dt = time.perf_counter() - t0
        if i >= 2:
            times.append(dt)
            cpu.append(time.process_time() - c0)
    n = sum(p.numel() for p in model.parameters())
    sec = sorted(times)[len(times) // 2]
    print(json.dumps({
        "torch": torch.__version__,
        "params": n,
        "step_ms": sec * 1000,
        "best_ms": min(times) * 1000,
        "cpu_ms": sorted(cpu)[len(cpu) // 2] * 1000,
        "tokens_per_s": B * ctx / sec,
        "loss": float(loss),
        "first_loss_expected": math.log(V),
    }))


if __name__ == "__main__":
    main()
