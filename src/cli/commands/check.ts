/** `check <dir>... [--format ...]`: exit 0 clean, 1 findings at error level, 2 unreadable input. */
import { checkNewsletters } from "../../check/check-newsletters.ts";
import { informationUriFromEnv, renderReport } from "../../report/index.ts";
import type { CliInput } from "../args.ts";
import { commandDeps } from "./deps.ts";
import type { Io } from "../io.ts";
import { TOOL_VERSION } from "../version.ts";

export async function runCheckCommand(input: Extract<CliInput, { command: "check" }>, io: Io): Promise<number> {
  const outcome = await checkNewsletters(
    commandDeps(input.root, io),
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

export { stateDir } from "./deps.ts";
