/**
 * `npm start`: the main job on the embedded sample, locally, the way the
 * workflows run it: for every newsletter folder, `check` → `manifest` →
 * `test-send` (the approval copy to the approvers) → `send`, all into the
 * local outbox (`outbox/`, .eml files any mail client opens), WHATEVER THE
 * ENVIRONMENT: the relay variables (NEWSLETTER_SMTP_URL,
 * NEWSLETTER_TEST_SMTP_URL) and the state branch are dropped before any
 * command sees them, because `npm start` sends every folder, drafts included,
 * with no approval, and the incident this tool exists for began with a
 * hand-run send (docs/design.md, "Trust boundary"). A real send is `send
 * --require-approval` in the send workflow. Stops at the first command that
 * fails, with its exit code. Running it again sends nothing new: the ledger
 * in .newsletter-state/ remembers, and the approval copies of a digest
 * already mailed (the record test-send keeps there) are not mailed again.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { stateDir } from "../wiring/deps.ts";
import { processIo, type Io } from "../runtime/io.ts";
import { main } from "./main.ts";
import { EXIT_SCHEDULED } from "../send/schedule.ts";

/** Variables that would send for real, or push state: never passed on by `npm start`. */
const REAL_SEND_VARIABLES = ["NEWSLETTER_SMTP_URL", "NEWSLETTER_TEST_SMTP_URL", "NEWSLETTER_STATE_BRANCH", "NEWSLETTER_STATE_REMOTE"] as const;

function outboxOnly(base: Io): Io {
  const env = { ...base.env };
  const dropped = REAL_SEND_VARIABLES.filter((k) => env[k] !== undefined && env[k] !== "");
  for (const k of REAL_SEND_VARIABLES) delete env[k];
  if (dropped.length > 0) {
    base.err(`npm start writes to the local outbox only: ignoring ${dropped.join(", ")} (a real send is \`newsletter send --require-approval\`)\n`);
  }
  return { ...base, env };
}

const root = process.cwd();
const io = outboxOnly(processIo());
const dirs = readdirSync(path.join(root, "newsletters"), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => `newsletters/${d.name}`)
  .sort();

let code = 0;
outer: for (const dir of dirs) {
  const m: { digest: string | null } = { digest: null };
  for (const cmd of ["check", "manifest", "test-send", "send"]) {
    if (cmd === "test-send" && m.digest !== null && approvalCopiesSent(dir, m.digest)) {
      io.err(`\n== test-send ${dir}: skipped, the approval copies of digest ${m.digest.slice(0, 12)}… were already sent\n`);
      continue;
    }
    io.err(`\n== ${cmd} ${dir}\n`);
    const seen: Io = {
      ...io,
      out: (t) => {
        if (cmd === "manifest") m.digest = digestIn(t) ?? m.digest;
        io.out(t);
      },
    };
    code = await main([cmd, dir], seen, root);
    // A newsletter scheduled for later (send_after) is not a failure: the others go on.
    if (cmd === "send" && code === EXIT_SCHEDULED) code = 0;
    if (code !== 0) break outer;
  }
  io.err(`\n== status ${dir}\n`);
  code = await main(["status", dir], io, root);
}

/** The digest of a `manifest` JSON output. */
function digestIn(text: string): string | null {
  return /"digest":\s*"([0-9a-f]{64})"/.exec(text)?.[1] ?? null;
}

/** Whether test-send's record (state/approval/<id>.json) says this digest's copies went out. */
function approvalCopiesSent(dir: string, digest: string): boolean {
  try {
    const record = JSON.parse(readFileSync(path.join(stateDir(root, io), "approval", `${path.basename(dir)}.json`), "utf8")) as { digest?: unknown; copies?: unknown };
    return record.digest === digest && Array.isArray(record.copies) && record.copies.length > 0;
  } catch {
    return false;
  }
}

if (code === 0) io.err(`\nDone. Open the messages in ${path.join(root, "outbox")} with any mail client.\n`);
process.exitCode = code;
