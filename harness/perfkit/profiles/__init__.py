"""What profilers wrote, read into perfkit metrics, summaries and flame graphs:
one module per profiler's output (perf's stacks and counters, heaptrack's
summary, callgrind's totals) and per view made of them (a flame graph, a
growth check over rounds). The wrappers in profiling/ call them through
`perfkit profile`."""
