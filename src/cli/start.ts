/**
 * `npm start`: the main job on the embedded sample, as a local run. For now
 * (issue A) that is `check` then `manifest` of every newsletter folder in the
 * repository; the approval copy and the send into the local outbox follow
 * in issue B. Stops at the first command that fails, with its exit code.
 */
import { readdirSync } from "node:fs";
import path from "node:path";
import { processIo } from "./io.ts";
import { main } from "./main.ts";

const root = process.cwd();
const io = processIo();
const dirs = readdirSync(path.join(root, "newsletters"), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => `newsletters/${d.name}`)
  .sort();

let code = 0;
for (const dir of dirs) {
  io.err(`\n== check ${dir}\n`);
  code = await main(["check", dir], io, root);
  if (code !== 0) break;
  io.err(`\n== manifest ${dir}\n`);
  code = await main(["manifest", dir], io, root);
  if (code !== 0) break;
}
process.exitCode = code;
