/**
 * `preview <dir> [--recipient EMAIL] [--out FILE]`: writes the exact message
 * one recipient gets — the same plan, composer and guard as `send` — to a
 * file (.eml, or the HTML part when FILE ends in .html). It is never printed
 * to the terminal, because the message holds the recipient's address.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { mask } from "../../address/mask.ts";
import { normaliseAddress } from "../../address/normalise.ts";
import { GuardAbortError, UsageError } from "../../errors.ts";
import { guardMessage } from "../../guard/guard.ts";
import { makePlan } from "../../send/plan.ts";
import { prepareNewsletter } from "../../send/prepare.ts";
import { listRows } from "../../send/recipients.ts";
import { resolveSecret } from "../../send/secret.ts";
import type { CliInput } from "../args.ts";
import { commandDeps } from "./deps.ts";
import type { Io } from "../io.ts";
import { stateDir } from "./check.ts";
import { reportRefusal } from "./refusal.ts";

export async function runPreviewCommand(input: Extract<CliInput, { command: "preview" }>, io: Io): Promise<number> {
  const prepared = await reportRefusal(io, () =>
    prepareNewsletter(commandDeps(input.root, io), input.dir),
  );
  const { checked } = prepared;
  const { secret } = resolveSecret(io.env, false);
  const plan = makePlan({ id: checked.id, config: checked.config, meta: checked.meta, body: checked.body, digest: checked.digest, secret, date: new Date() });
  const want = input.recipient !== undefined ? normaliseAddress(input.recipient) : null;
  if (input.recipient !== undefined && !want) throw new UsageError(`--recipient ${mask(input.recipient)} is not an address`);
  let chosen: { address: string; row: Record<string, string> } | undefined;
  for (const r of listRows(prepared.listBytes, checked.list.file, checked.suppressions?.addresses ?? new Set())) {
    if (want === null || r.address === want) {
      chosen = r;
      break;
    }
  }
  if (!chosen) {
    throw new UsageError(
      want ? `--recipient ${mask(want)} is not a (non-suppressed) row of ${checked.list.file}` : `${checked.list.file} has no recipient to preview`,
    );
  }
  const out = plan.messageFor(chosen.address, chosen.row);
  const verdict = guardMessage(out.raw, out.envelope, out.guard);
  if (!verdict.ok) throw new GuardAbortError(`guard: ${verdict.reason} in ${verdict.where} (${verdict.masked}): this message would abort the send`);
  const file = input.out ?? path.join(input.root, "outbox", "preview", `${checked.id}.eml`);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, file.endsWith(".html") ? plan.htmlFor(chosen.address, chosen.row) : out.raw);
  io.out(`preview of ${checked.id} for ${mask(chosen.address)} written to ${file}\n`);
  return 0;
}
