/**
 * `npm start`: the main job on the embedded sample, locally, the way the
 * workflows run it: for every newsletter folder, `check` → `manifest` →
 * `test-send` (the approval copy to the approvers) → `send`, all into the
 * local outbox (`outbox/`, .eml files any mail client opens) unless
 * NEWSLETTER_SMTP_URL / NEWSLETTER_TEST_SMTP_URL say otherwise. Stops at the
 * first command that fails, with its exit code. Running it again sends
 * nothing new: the ledger in .newsletter-state/ remembers.
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
outer: for (const dir of dirs) {
  for (const cmd of ["check", "manifest", "test-send", "send"]) {
    io.err(`\n== ${cmd} ${dir}\n`);
    code = await main([cmd, dir], io, root);
    if (code !== 0) break outer;
  }
  io.err(`\n== status ${dir}\n`);
  code = await main(["status", dir], io, root);
}
if (code === 0) io.err(`\nDone. Open the messages in ${path.join(root, "outbox")} with any mail client.\n`);
process.exitCode = code;
