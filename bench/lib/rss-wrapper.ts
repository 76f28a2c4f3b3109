/**
 * `node --import tsx rss-wrapper.ts OUT SCRIPT ARGS...`: runs SCRIPT in this
 * process as if started as `node SCRIPT ARGS...` and, on exit, writes this
 * process's peak RSS in KiB (`process.resourceUsage().maxRSS`) to OUT, and
 * its CPU time as `{"maxRSS": KiB, "cpu": µs}`. The fallback of
 * measure.ts where GNU time is not installed.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [out, script, ...args] = process.argv.slice(2);
if (out === undefined || script === undefined) {
  process.stderr.write("usage: rss-wrapper.ts OUT SCRIPT [ARGS...]\n");
  process.exit(2);
}
process.on("exit", () => {
  const u = process.resourceUsage();
  writeFileSync(out, JSON.stringify({ maxRSS: u.maxRSS, cpu: u.userCPUTime + u.systemCPUTime }));
});
process.argv = [process.argv[0]!, path.resolve(script), ...args];
await import(pathToFileURL(path.resolve(script)).href);
