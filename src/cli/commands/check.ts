/** `check <dir>... [--format ...]`: exit 0 clean, 1 findings at error level, 2 unreadable input. */
import path from "node:path";
import { checkNewsletters } from "../../check/check-newsletters.ts";
import { FsRepo } from "../../load/fs-repo.ts";
import { FsHistory } from "../../ledger/fs-history.ts";
import { informationUriFromEnv, renderReport } from "../../report/index.ts";
import type { CliInput } from "../args.ts";
import type { Io } from "../io.ts";
import { TOOL_VERSION } from "../version.ts";

export async function runCheckCommand(input: Extract<CliInput, { command: "check" }>, io: Io): Promise<number> {
  const outcome = await checkNewsletters(
    { repo: new FsRepo(input.root), history: new FsHistory(stateDir(input.root, io)) },
    input.dirs,
  );
  const informationUri = informationUriFromEnv(io.env);
  const text = await renderReport(outcome.report, input.format, {
    toolVersion: TOOL_VERSION,
    color: io.isTTY && !io.env.NO_COLOR,
    ...(informationUri ? { informationUri } : {}),
  });
  io.out(text.endsWith("\n") ? text : `${text}\n`);
  if (outcome.unreadable) return 2;
  return outcome.report.ok ? 0 : 1;
}

/** The local state folder (ledger, audit); in Actions the state branch is checked out there. */
export function stateDir(root: string, io: Io): string {
  return path.resolve(root, io.env.NEWSLETTER_STATE_DIR ?? ".newsletter-state");
}
