"""Continuous batching over a paged KV pool, simulated step by step (vLLM V1's scheduler).

Each engine step, in this order (vllm/v1/core/sched/scheduler.py):

1. every running sequence that is decoding gets a slot for its next token; one whose cache
   fills its last block takes a free block; with none free, the most recently admitted
   running sequence is preempted (recompute: its blocks are freed and it goes back to the
   front of the queue with its prompt and the tokens generated so far as its new prompt);
2. if nothing was preempted, waiting sequences that have arrived are admitted in arrival order
   while the batch has room (`max_num_seqs`), the step's token budget (`max_batched_tokens`,
   decode tokens counted first) takes their whole prompt, and the pool has the blocks for it
   (a prompt over the budget runs alone; prompts are not chunked);
3. the step runs: one token per decoding sequence and each admitted prompt's prefill, which
   emits its first token; its time is the roofline cost of exactly that mix of tokens;
4. a sequence that has emitted its output length finishes and frees its blocks.

Decode-only stretches in which nothing can change (no arrival, no finish, blocks to spare) are
costed in one vectorised evaluation and recorded as one trace segment; block allocations
inside them keep their own step numbers. Blocks are real ids from a free list, so the trace
says which block holds which request at every step.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from app.core.inference.cost import CostModel, prefill_mix
from app.core.inference.ops import FEATURES, INDEX, FloatArray
from app.core.inference.stepcost import StepCost

ALLOC, FREE = 0, 1
_ONE, _TD, _SEQ = INDEX["one"], INDEX["tokens_decode"], INDEX["sequences"]
_PAIRS, _READS = INDEX["pairs_full_decode"], INDEX["reads_full_decode"]


@dataclass
class Stream:
    """The requests, in arrival order (request id = index)."""

    arrival: FloatArray
    prompt: list[int]
    output: list[int]


@dataclass
class Trace:
    """Segments of identical steps, and every block allocation and free."""

    record: bool
    seg: dict[str, list[float]] = field(default_factory=dict)
    # (step, first block, blocks, request, op): runs of consecutive block ids
    events: list[tuple[int, int, int, int, int]] = field(default_factory=list)

    def segment(self, **row: float) -> None:
        for k, v in row.items():
            self.seg.setdefault(k, []).append(v)

    def log(self, step: int, blocks: list[int], rid: int, op: int) -> None:
        """Record `blocks` (any order) allocated or freed by rid, as runs of consecutive ids."""
        ids = sorted(blocks)
        start = prev = ids[0] if ids else 0
        for b in ids[1:]:
            if b != prev + 1:
                self.events.append((step, start, prev - start + 1, rid, op))
                start = b
            prev = b
        if ids:
            self.events.append((step, start, prev - start + 1, rid, op))


@dataclass
class Outcome:
    """Per request: when it was first scheduled, its first token, its finish, preemptions."""

    admitted: FloatArray
    first_token: FloatArray
    finish: FloatArray
    preemptions: list[int]
    steps: int
    busy_time: float
    token_steps: float  # Σ over steps of the sequences in the batch (for the mean batch)
    peak_blocks: int
    trace: Trace


class Pool:
    """The block pool. With a trace it hands out real ids from a free list (block 0 first)
    and logs every allocation and free; without one it only counts."""

    def __init__(self, num_blocks: int, trace: Trace) -> None:
        self.trace = trace
        self.free_count = num_blocks
        self.free = list(range(num_blocks - 1, -1, -1)) if trace.record else []
        self.held: dict[int, list[int]] = {}
        self.used = 0
        self.peak = 0

    def alloc(self, rid: int, n: int, step: int) -> None:
        self.free_count -= n
        self.used += n
        if self.used > self.peak:
            self.peak = self.used
        if self.trace.record:
            got = self.free[len(self.free) - n :] if n else []
            del self.free[len(self.free) - n :]
            self.held.setdefault(rid, []).extend(got)
            self.trace.log(step, got, rid, ALLOC)

    def take(self, n: int) -> None:
        """n blocks handed out without ids (counting mode only)."""
        self.free_count -= n
        self.used += n
        if self.used > self.peak:
            self.peak = self.used

    def release(self, rid: int, n: int, step: int) -> None:
        """Free the n blocks rid holds."""
        self.free_count += n
        self.used -= n
        if self.trace.record:
            got = self.held.pop(rid, [])
            assert len(got) == n, (rid, len(got), n)
            self.free.extend(got)
            self.trace.log(step, got, rid, FREE)


class Engine:
    """One replica serving a stream with continuous batching (see the module docstring).

    A decoder's cache and output grow by one each step, so they are kept as their values at
    the step it joined the batch (`join_*`); decoders are grouped by (cache − step) mod
    block_size, the group whose key is (−s) mod block_size being the one that needs a new
    block at step s.
    """

    def __init__(self, cost: CostModel, stream: Stream, num_blocks: int, block_size: int,
                 max_num_seqs: int, max_batched_tokens: int, record: bool) -> None:  # fmt: skip
        self.cost, self.stream = cost, stream
        self.arrival = stream.arrival.tolist()
        self.bs, self.max_seqs, self.budget = block_size, max_num_seqs, max_batched_tokens
        self.window = cost.serving.window
        self.fast = StepCost(cost) if not self.window else None
        self.pool = Pool(num_blocks, Trace(record))
        n = len(stream.prompt)
        self.waiting: deque[int] = deque(range(n))
        self.running: dict[int, None] = {}  # admission order; the last is preempted first
        self.groups: dict[int, set[int]] = {}
        self.group_count = [0] * block_size
        self.heap: list[tuple[int, int, int]] = []  # (finish step, version, rid)
        self.version = [0] * n
        self.join_step = [0] * n  # first decode step
        self.join_ctx = [0] * n  # cache tokens at that step
        self.join_gen = [0] * n  # tokens emitted by then
        self.sum_base = 0  # Σ over decoders of join_ctx − join_step
        self.s, self.t = 0, 0.0
        self.admitted = [math.nan] * n
        self.first = [math.nan] * n
        self.finish = [math.nan] * n
        self.preempted = [0] * n
        self.done = 0
        self.busy = 0.0
        self.token_steps = 0.0

    # ------------------------------------------------------------ state of a decoder

    def _ctx(self, r: int) -> int:
        return self.join_ctx[r] + self.s - self.join_step[r]

    def _blocks(self, tokens: int) -> int:
        return -(-tokens // self.bs)

    def _prompt(self, r: int) -> int:
        """Tokens r prefills when admitted: its prompt, plus what it emitted before a preemption."""
        return self.stream.prompt[r] + self.join_gen[r]

    def _leave(self, r: int) -> None:
        """Stop decoding r (finished or preempted)."""
        del self.running[r]
        base = self.join_ctx[r] - self.join_step[r]
        self.groups[base % self.bs].discard(r)
        self.group_count[base % self.bs] -= 1
        self.sum_base -= base
        self.version[r] += 1

    def _preempt(self, r: int) -> None:
        gen = self.join_gen[r] + self.s - self.join_step[r]
        held = self._blocks(self._ctx(r))
        self._leave(r)
        self.pool.release(r, held, self.s)
        self.join_gen[r] = gen  # it restarts with prompt + gen tokens to recompute
        self.preempted[r] += 1
        self.waiting.appendleft(r)

    def _join(self, r: int, ctx: int, gen: int) -> None:
        """r finished its prefill in step s − 1 with `ctx` cached tokens and `gen` emitted."""
        out = self.stream.output[r]
        if gen >= out:
            self.finish[r] = self.t
            self.pool.release(r, self._blocks(ctx), self.s - 1)
            self.done += 1
            return
        self.running[r] = None
        self.join_step[r], self.join_ctx[r], self.join_gen[r] = self.s, ctx, gen
        base = ctx - self.s
        self.groups.setdefault(base % self.bs, set()).add(r)
        self.group_count[base % self.bs] += 1
        self.sum_base += base
        heapq.heappush(self.heap, (self.s + out - gen - 1, self.version[r], r))

    # ------------------------------------------------------------ one step

    def _decode_blocks(self) -> bool:
        """Step 1: a slot for every decoder's next token; False if anything was preempted."""
        need = self.groups.get((-self.s) % self.bs)
        if not need:
            return True
        if self.pool.free_count >= len(need):  # enough for all: the order does not matter
            if self.pool.trace.record:
                for r in sorted(need, key=self.join_step.__getitem__):
                    self.pool.alloc(r, 1, self.s)
            else:
                self.pool.take(len(need))
            return True
        clean = True
        for r in [r for r in self.running if r in need]:
            while not self.pool.free_count and r in self.running:
                self._preempt(next(reversed(self.running)))
                clean = False
            if r in self.running:
                self.pool.alloc(r, 1, self.s)
        return clean

    def _admissible(self, r: int, pending: int) -> bool:
        return (
            self.arrival[r] <= self.t
            and len(self.running) + pending < self.max_seqs
            and self.pool.free_count >= self._blocks(self._prompt(r))
        )

    def _admit(self) -> list[int]:
        """Step 2: admit waiting prompts that have arrived and fit."""
        out: list[int] = []
        room = self.budget - len(self.running)
        tokens = 0
        while self.waiting and self._admissible(self.waiting[0], len(out)):
            r = self.waiting[0]
            p = self._prompt(r)
            if out and tokens + p > room:
                break
            self.waiting.popleft()
            self.pool.alloc(r, self._blocks(p), self.s)
            if self.admitted[r] != self.admitted[r]:  # nan: first admission
                self.admitted[r] = self.t
            out.append(r)
            tokens += p
        return out

    def _decode_rows(self, offset: int, k: int) -> FloatArray:
        """Features of decode-only steps s + offset … s + offset + k − 1 of the decoders."""
        d = len(self.running)
        x = np.zeros((k, len(FEATURES)))
        if d == 0:
            return x
        j = np.arange(offset, offset + k, dtype=np.float64)
        reads = self.sum_base + d * (self.s + 1) + d * j  # Σ (cache + 1)
        x[:, INDEX["one"]] = 1
        x[:, INDEX["tokens_decode"]] = d
        x[:, INDEX["sequences"]] = d
        x[:, INDEX["pairs_full_decode"]] = reads
        x[:, INDEX["reads_full_decode"]] = reads
        if self.window:
            keys = np.sort(np.array([self._ctx(r) + 1 for r in self.running], dtype=np.float64))
            prefix = np.concatenate([[0.0], np.cumsum(keys)])
            # Σ min(key + j, w): keys still under the window grow, the rest stay at w
            idx = np.searchsorted(keys, self.window - j, side="left")
            slide = prefix[idx] + idx * j + (d - idx) * self.window
            x[:, INDEX["pairs_sliding_decode"]] = slide
            x[:, INDEX["reads_sliding_decode"]] = slide
        return x

    def _step(self) -> None:
        """Steps 1–4 for one step that admits, preempts or frees."""
        clean = self._decode_blocks()
        new = self._admit() if clean else []
        decoders = len(self.running)
        if not new and not decoders:
            return
        if not new and self.fast is not None:
            dt = self.fast.step_time(decoders, self.sum_base + decoders * (self.s + 1))
            self._advance(1, dt, decoders, new, 0)
            return
        prompts = [self._prompt(r) for r in new]
        x = self._decode_rows(0, 1) if self.window else self._decode_row(decoders)
        if new:
            x = x + prefill_mix(np.array(prompts, dtype=np.float64), self.window)
            x[0, INDEX["one"]] = 1
        dt = float(self.cost.latency(x)[0])
        self._advance(1, dt, decoders, new, sum(prompts))

    def _decode_row(self, d: int) -> FloatArray:
        """The features of one decode step of the d decoders (no window)."""
        row = [0.0] * len(FEATURES)
        reads = float(self.sum_base + d * (self.s + 1))
        row[_ONE], row[_TD], row[_SEQ], row[_PAIRS], row[_READS] = 1.0, d, d, reads, reads
        return np.array([row])

    # ------------------------------------------------------------ many steps at once

    def _taken(self, k: int) -> int:
        """Blocks the decoders take over steps s … s + k − 1: each takes one every
        block_size steps, at the step whose (−step) mod block_size is its group's key."""
        full, rest = divmod(k, self.bs)
        count, s, bs = self.group_count, self.s, self.bs
        return full * len(self.running) + sum(count[(-(s + i)) % bs] for i in range(rest))

    def _stretch(self) -> int:
        """How many decode-only steps can run before something changes (< 2: one step)."""
        if self.waiting and self._admissible(self.waiting[0], 0):
            return 0  # someone can be admitted now
        heap, version = self.heap, self.version
        while heap and heap[0][1] != version[heap[0][2]]:
            heapq.heappop(heap)
        k = heap[0][0] - self.s + 1 if heap else 1
        free = self.pool.free_count
        if self._taken(k) > free:  # the pool runs out first: the last step that fits
            d = len(self.running)
            lo = (free // d) * self.bs if d else k  # whole cycles always fit
            while lo < k and self._taken(lo + 1) <= free:
                lo += 1
            k = lo
        return k

    def _run_stretch(self, k: int) -> None:
        """Run up to k decode-only steps, stopping after the one in which the next request
        arrives."""
        arrival = None
        if self.waiting and self.arrival[self.waiting[0]] > self.t:
            arrival = self.arrival[self.waiting[0]]
        if self.fast is not None:
            d = len(self.running)
            reads0 = self.sum_base + d * (self.s + 1)
            m = k if arrival is None else self.fast.steps_until(d, reads0, k, arrival - self.t)
            self._allocate_stretch(m)
            self._advance(m, self.fast.total_time(d, reads0, m), d, [], 0)
            return
        chunk, done, parts, elapsed = 64, 0, [], 0.0
        while done < k:
            n = min(chunk, k - done)
            dt = self.cost.latency(self._decode_rows(done, n))
            parts.append(dt)
            done += n
            elapsed += float(dt.sum())
            if arrival is not None and self.t + elapsed >= arrival:
                break
            chunk *= 4
        dts = np.concatenate(parts)
        if arrival is not None:
            hit = int(np.searchsorted(self.t + np.cumsum(dts), arrival, side="left"))
            dts = dts[: hit + 1]
        self._allocate_stretch(len(dts))
        self._advance(len(dts), float(dts.sum()), len(self.running), [], 0)

    def _allocate_stretch(self, k: int) -> None:
        """The decoders' block allocations over the next k steps."""
        if not self.pool.trace.record:
            self.pool.take(self._taken(k))
            return
        for i in range(k):
            need = self.groups.get((-(self.s + i)) % self.bs)
            if need:
                for r in sorted(need, key=self.join_step.__getitem__):
                    self.pool.alloc(r, 1, self.s + i)

    # ------------------------------------------------------------ bookkeeping

    def _advance(self, k: int, dt: float, decoders: int, new: list[int],
                 prefill_tokens: int) -> None:  # fmt: skip
        """Close k steps: time, first tokens of the admitted, finishes, the trace."""
        start = self.t
        self.t += dt
        self.busy += dt
        self.token_steps += k * (decoders + len(new))
        first_step, last = self.s, self.s + k - 1
        self.s += k
        for r in new:
            if self.first[r] != self.first[r]:  # nan: the first prefill
                self.first[r] = self.t
            self._join(r, self._prompt(r), self.join_gen[r] + 1)
        heap = self.heap
        while heap and heap[0][0] <= last:
            _, version, r = heapq.heappop(heap)
            if version != self.version[r]:
                continue
            held = self._blocks(self._ctx(r))
            self._leave(r)
            self.finish[r] = self.t
            self.pool.release(r, held, last)
            self.done += 1
        if self.pool.trace.record:
            arrived = int(np.searchsorted(self.stream.arrival, self.t, side="right"))
            self.pool.trace.segment(
                step=first_step, steps=k, start=start, end=self.t,
                running=decoders + len(new), waiting=arrived - len(self.running) - self.done,
                prefills=len(new), prefill_tokens=prefill_tokens, decode_tokens=decoders,
                blocks=self.pool.used,
            )  # fmt: skip

    def run(self) -> Outcome:
        """Serve every request; returns when the last one finishes."""
        n = len(self.stream.prompt)
        while self.done < n:
            if not self.running and self.arrival[self.waiting[0]] > self.t:
                self.t = self.arrival[self.waiting[0]]  # idle until the next arrival
            k = self._stretch()
            if k >= 2 and self.running:
                self._run_stretch(k)
            else:
                self._step()
        return Outcome(np.array(self.admitted), np.array(self.first), np.array(self.finish),
                       self.preempted, self.s,
                       self.busy, self.token_steps, self.pool.peak, self.pool.trace)  # fmt: skip
