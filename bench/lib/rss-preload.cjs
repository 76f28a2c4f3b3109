// Preloaded with `node -r` by measure.ts when GNU time is absent: on exit,
// write this process's peak RSS in KiB to $BENCH_RSS_OUT.
"use strict";
const out = process.env.BENCH_RSS_OUT;
if (out) process.on("exit", () => require("node:fs").writeFileSync(out, String(process.resourceUsage().maxRSS)));
