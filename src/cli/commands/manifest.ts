/**
 * `manifest <dir>`: JSON on stdout, exit 0; exit 2 when an input the digest
 * covers cannot be read. The manifest is printed even when checks fail
 * (`checks_ok: false`): it describes inputs, it does not approve them.
 */
import { checkNewsletters } from "../../check/check-newsletters.ts";
import { UnreadableInputError } from "../../errors.ts";
import { buildManifest } from "../../manifest/manifest.ts";
import type { CliInput } from "../args.ts";
import { commandDeps } from "../../wiring/deps.ts";
import type { Io } from "../../runtime/io.ts";

export async function runManifestCommand(input: Extract<CliInput, { command: "manifest" }>, io: Io): Promise<number> {
  const outcome = await checkNewsletters(
    commandDeps(input.root, io),
    [input.dir],
  );
  const n = outcome.newsletters[0];
  const manifest = n ? buildManifest(n) : null;
  if (!manifest) {
    const why = outcome.report.findings.find((f) => f.severity === "error");
    throw new UnreadableInputError(
      why?.file ?? input.dir,
      `cannot build the manifest of ${input.dir}: ${why ? `${why.file}:${why.line}: ${why.message}` : "an input is missing"}; run \`check ${input.dir}\` for every finding`,
    );
  }
  io.out(`${JSON.stringify(manifest, null, 2)}\n`);
  return 0;
}
