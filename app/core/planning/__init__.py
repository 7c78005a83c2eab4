"""Reading throughput claims and planning layouts.

- `conventions`: the ways published runs count training FLOPs (6N, 6N plus attention causal or
  not, Megatron's GPT formula, recompute-inclusive HFU) and the peaks they divide by (BF16 or
  FP8, dense or 2:4-sparse);
- `decoder`: one claim (tokens/s, step time, GPU-hours or TFLOP/s on a GPU count) under every
  convention side by side, what it implies, and checks on a stated layout;
- `gallery`: published runs, each reproduced by the convention its authors used;
- `planner`: every TP × PP × DP/ZeRO × CP × EP × schedule × recompute layout of a model on a
  cluster, screened in numpy (`plan_space`, `plan_screen`) and the finalists priced exactly by
  the step-time model.
"""
