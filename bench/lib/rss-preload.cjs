// Preloaded with `node -r` by measure.ts when GNU time is absent: on exit,
// write this process's peak RSS (KiB) and CPU time (µs) to $BENCH_RSS_OUT.
"use strict";
const out = process.env.BENCH_RSS_OUT;
if (out) {
  process.on("exit", () => {
    const u = process.resourceUsage();
    require("node:fs").writeFileSync(out, JSON.stringify({ maxRSS: u.maxRSS, cpu: u.userCPUTime + u.systemCPUTime }));
  });
}
