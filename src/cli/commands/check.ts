/**
 * `check <dir>... [--format ...] [--sarif-out FILE] [--manifest-out FILE]`:
 * exit 0 clean, 1 findings at error level, 2 unreadable input. `--sarif-out`
 * writes the SARIF log of the same run to FILE as well, `--manifest-out` the
 * manifest `manifest` would print (checks_ok included), so a workflow gets
 * annotations, code scanning and the digest from one pass over the inputs (a
 * million-row list is read once, not three times). On exit 2 neither is
 * written: an incomplete log must not be uploaded, nor a digest recorded.
 */
import { writeFile } from "node:fs/promises";
import { checkNewsletters } from "../../check/check-newsletters.ts";
import { buildManifest } from "../../manifest/manifest.ts";
import { UsageError } from "../../errors.ts";
import { informationUriFromEnv, renderReport } from "../../report/index.ts";
import type { CliInput } from "../args.ts";
import { commandDeps } from "../../wiring/deps.ts";
import type { Io } from "../../runtime/io.ts";
import { TOOL_VERSION } from "../../runtime/version.ts";

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
    await writeOut("--sarif-out", input.sarifOut, sarif);
  }
  if (input.manifestOut !== undefined) {
    const n = outcome.newsletters[0];
    const manifest = n ? buildManifest(n) : null;
    if (manifest) await writeOut("--manifest-out", input.manifestOut, JSON.stringify(manifest, null, 2));
  }
  return outcome.report.ok ? 0 : 1;
}

async function writeOut(flag: string, file: string, text: string): Promise<void> {
  try {
    await writeFile(file, text.endsWith("\n") ? text : `${text}\n`, "utf8");
  } catch (e) {
    throw new UsageError(`${flag}: could not write ${file} (${(e as NodeJS.ErrnoException).code ?? "error"}); give a file in a folder that exists`, { cause: e });
  }
}
