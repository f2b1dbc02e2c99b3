#!/usr/bin/python3
"""PyTorch NeuMF baseline for `make bench-e2e` (bench/e2e_neumf.sh).

He et al.'s NeuMF with psrec's default neumf architecture on both sides: GMF
embeddings of 64, MLP embeddings of 32 through 64-32-16 (ReLU), one predict
layer over both; joint training as the NCF reference code does (Adam 1e-3,
batch 256, 4 sampled negatives per positive, re-sampled each epoch). Prints
one JSON line: examples/s over training time only (evaluation excluded, as
psrec reports it) and HR@10 / NDCG@10 after the last epoch, ties counted
against the model as in ../shared/eval.md.

Usage: pytorch_neumf.py DATA_DIR EPOCHS [THREADS]   (DATA_DIR holds ml-100k-loo)
"""
import json
import math
import sys
import time

import numpy as np
import torch
import torch.nn as nn


def read_train(path):
    users, items = [], []
    with open(path) as f:
        for line in f:
            p = line.split("\t")
            users.append(int(p[0]))
            items.append(int(p[1]))
    return np.array(users), np.array(items)


def read_negatives(path):
    cases = []
    with open(path) as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            u, i = p[0].strip("()").split(",")
            cases.append((int(u), [int(i)] + [int(x) for x in p[1:] if x]))
    return cases


class NeuMF(nn.Module):
    def __init__(self, n_users, n_items, gmf=64, mlp=32, layers=(64, 32, 16)):
        super().__init__()
        self.gu, self.gi = nn.Embedding(n_users, gmf), nn.Embedding(n_items, gmf)
        self.mu, self.mi = nn.Embedding(n_users, mlp), nn.Embedding(n_items, mlp)
        tower, width = [], 2 * mlp
        for w in layers:
            tower += [nn.Linear(width, w), nn.ReLU()]
            width = w
        self.tower = nn.Sequential(*tower)
        self.predict = nn.Linear(gmf + width, 1)
        for e in (self.gu, self.gi, self.mu, self.mi):
            nn.init.normal_(e.weight, std=0.01)
        for m in self.tower:
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
        nn.init.kaiming_uniform_(self.predict.weight, a=1, nonlinearity="sigmoid")
        nn.init.zeros_(self.predict.bias)

    def forward(self, u, i):
        g = self.gu(u) * self.gi(i)
        m = self.tower(torch.cat([self.mu(u), self.mi(i)], dim=1))
        return self.predict(torch.cat([g, m], dim=1)).squeeze(1)


def main():
    data, epochs = sys.argv[1], int(sys.argv[2])
    threads = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    rng = np.random.default_rng(1)
    users, items = read_train(f"{data}/ml-100k-loo/train.rating")
    cases = read_negatives(f"{data}/ml-100k-loo/test.negative")
    n_users = max(users.max(), max(c[0] for c in cases)) + 1
    n_items = max(items.max(), max(max(c[1]) for c in cases)) + 1
    seen = set(zip(users.tolist(), items.tolist()))
    model = NeuMF(n_users, n_items)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.BCEWithLogitsLoss()
    train_seconds, train_cpu_seconds, examples = 0.0, 0.0, 0
    for _ in range(epochs):
        # 4 negatives per positive, never an item the user interacted with.
        neg = rng.integers(1, n_items, size=(len(users), 4))
        for r in range(len(users)):
            for k in range(4):
                while (users[r], neg[r, k]) in seen:
                    neg[r, k] = rng.integers(1, n_items)
        u = np.concatenate([users, np.repeat(users, 4)])
        i = np.concatenate([items, neg.reshape(-1)])
        y = np.concatenate([np.ones(len(users)), np.zeros(4 * len(users))]).astype(np.float32)
        order = rng.permutation(len(u))
        u, i, y = torch.from_numpy(u[order]), torch.from_numpy(i[order]), torch.from_numpy(y[order])
        start = time.perf_counter()
        cpu_start = time.process_time()
        model.train()
        for b in range(0, len(u), 256):
            opt.zero_grad()
            loss = loss_fn(model(u[b:b + 256], i[b:b + 256]), y[b:b + 256])
            loss.backward()
            opt.step()
        train_seconds += time.perf_counter() - start
        train_cpu_seconds += time.process_time() - cpu_start
        examples += len(u)
    model.eval()
    hits, ndcg = 0, 0.0
    with torch.no_grad():
        for user, its in cases:
            s = model(torch.full((len(its),), user), torch.tensor(its)).numpy()
            rank = int((s[1:] >= s[0]).sum())
            if rank < 10:
                hits += 1
                ndcg += 1 / math.log2(rank + 2)
    print(json.dumps({"case": "neumf_e2e", "system": "pytorch", "threads": threads,
                      "epochs": epochs, "examples": examples,
                      "train_seconds": round(train_seconds, 3),
                      "examples_per_second": round(examples / train_seconds, 1),
                      # CPU time moves far less with the machine's load.
                      "cpu_us_per_example": round(1e6 * train_cpu_seconds / examples, 2),
                      "hr_at_10": round(hits / len(cases), 4),
                      "ndcg_at_10": round(ndcg / len(cases), 4)}))


if __name__ == "__main__":
    main()
