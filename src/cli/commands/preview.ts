/**
 * `preview <dir> [--recipient EMAIL] [--out FILE]`: writes the exact message
 * one recipient gets — the same plan, composer and guard as `send` — to a
 * file (.eml, or the HTML part when FILE ends in .html). It is never printed
 * to the terminal, because the message holds the recipient's address.
 *
 * `--png FILE [--width N] [--row N]`: a picture of that message's HTML part,
 * decoded from the guarded bytes, in headless Chromium (docs/design.md,
 * "Layout and pictures"). The recipient is the first one, or row N of the
 * list (counting the rows that are sent to, from 1).
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { mask } from "../../address/mask.ts";
import { normaliseAddress } from "../../address/normalise.ts";
import { GuardAbortError, UsageError } from "../../errors.ts";
import { guardMessage } from "../../guard/guard.ts";
import { findBrowser, openPictureTaker } from "../../picture/chromium.ts";
import { htmlPartOf } from "../../picture/html-part.ts";
import { makePlan } from "../../send/plan.ts";
import { prepareNewsletter } from "../../send/prepare.ts";
import { listRows } from "../../send/recipients.ts";
import { resolveSecret } from "../../keys/secret.ts";
import type { CliInput } from "../args.ts";
import { commandDeps } from "../../wiring/deps.ts";
import type { Io } from "../../runtime/io.ts";
import { formatText } from "../../report/text.ts";
import { reportRefusal } from "./refusal.ts";

type PreviewInput = Extract<CliInput, { command: "preview" }>;

export async function runPreviewCommand(input: PreviewInput, io: Io): Promise<number> {
  // Before any work: without a browser, say how to install one.
  const browser = input.png !== undefined ? findBrowser(io.env) : null;
  // A draft can be looked at: the findings are shown, and the preview is made all the same.
  const prepared = await reportRefusal(io, () =>
    prepareNewsletter(commandDeps(input.root, io), input.dir, { draft: true }),
  );
  const { checked } = prepared;
  if (!prepared.report.ok) {
    io.err(formatText(prepared.report, { color: false }));
    const n = prepared.report.findings.filter((f) => f.severity === "error").length;
    io.err(`newsletter: a draft: ${n} check error${n === 1 ? "" : "s"} above must be fixed before this newsletter can be sent; the preview shows it as it is now\n`);
  }
  const { secret } = resolveSecret(io.env, false);
  const plan = makePlan({ id: checked.id, config: checked.config, meta: checked.meta, body: checked.body, digest: checked.digest, secret, date: new Date(), layout: checked.layout });
  const chosen = chooseRecipient(input, listRows(prepared.listBytes, checked.list.file, checked.suppressions?.addresses ?? new Set()), checked.list.file);
  const out = plan.messageFor(chosen.address, chosen.row);
  const verdict = guardMessage(out.raw, out.envelope, out.guard);
  if (!verdict.ok) throw new GuardAbortError(`guard: ${verdict.reason} in ${verdict.where} (${verdict.masked}): this message would abort the send`);

  if (browser !== null && input.png !== undefined) {
    const taker = await openPictureTaker(browser);
    try {
      const [shot] = await taker.take(htmlPartOf(out.raw), [{ width: input.width ?? 600 }]);
      await mkdir(path.dirname(input.png), { recursive: true });
      await writeFile(input.png, shot!.png);
      io.out(`picture of ${checked.id} for ${mask(chosen.address)} (${shot!.width} px wide, ${Math.round(shot!.ms)} ms) written to ${input.png}\n`);
    } finally {
      await taker.close();
    }
    if (input.out === undefined) return 0;
  }
  const file = input.out ?? path.join(input.root, "outbox", "preview", `${checked.id}.eml`);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, file.endsWith(".html") ? plan.htmlFor(chosen.address, chosen.row) : out.raw);
  io.out(`preview of ${checked.id} for ${mask(chosen.address)} written to ${file}\n`);
  return 0;
}

function chooseRecipient(
  input: PreviewInput,
  rows: Iterable<{ address: string; row: Record<string, string> }>,
  listFile: string,
): { address: string; row: Record<string, string> } {
  const want = input.recipient !== undefined ? normaliseAddress(input.recipient) : null;
  if (input.recipient !== undefined && !want) throw new UsageError(`--recipient ${mask(input.recipient)} is not an address`);
  let n = 0;
  for (const r of rows) {
    n++;
    if (input.row !== undefined ? n === input.row : want === null || r.address === want) return r;
  }
  if (input.row !== undefined) throw new UsageError(`--row ${input.row}: ${listFile} has ${n} recipient${n === 1 ? "" : "s"} to send to`);
  throw new UsageError(
    want ? `--recipient ${mask(want)} is not a (non-suppressed) row of ${listFile}` : `${listFile} has no recipient to preview`,
  );
}
