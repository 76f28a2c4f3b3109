/**
 * `check <dir>... [--format ...] [--sarif-out FILE]`: exit 0 clean, 1 findings
 * at error level, 2 unreadable input. `--sarif-out` writes the SARIF log of the
 * same run to FILE as well, so a workflow gets annotations and code scanning
 * from one pass over the inputs (a million-row list is read once, not twice);
 * on exit 2 no log is written — an incomplete one must not be uploaded.
 */
import { writeFile } from "node:fs/promises";
import { checkNewsletters } from "../../check/check-newsletters.ts";
import { UsageError } from "../../errors.ts";
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
  const options = {
    toolVersion: TOOL_VERSION,
    color: io.isTTY && !io.env.NO_COLOR,
    ...(informationUri ? { informationUri } : {}),
  };
  const text = await renderReport(outcome.report, input.format, options);
  io.out(text.endsWith("\n") ? text : `${text}\n`);
  if (outcome.unreadable) return 2;
  if (input.sarifOut !== undefined) {
    const sarif = input.format === "sarif" ? text : await renderReport(outcome.report, "sarif", { ...options, color: false });
    try {
      await writeFile(input.sarifOut, sarif.endsWith("\n") ? sarif : `${sarif}\n`, "utf8");
    } catch (e) {
      throw new UsageError(`--sarif-out: could not write ${input.sarifOut} (${(e as NodeJS.ErrnoException).code ?? "error"}); give a file in a folder that exists`, { cause: e });
    }
  }
  return outcome.report.ok ? 0 : 1;
}

export { stateDir } from "./deps.ts";
