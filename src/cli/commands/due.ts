/**
 * `due [--format json]`: what the scheduled workflow sends now
 * (docs/design.md, "Scheduling and continuation"). A newsletter is due when
 * its `send_after` has come, it is not cancelled and its send has not begun
 * (a begun send is continued by its own dispatch, not by the schedule).
 * Newsletters without `send_after` are sent when merged, so they are never
 * due here. The JSON carries the shard matrix of `sending.shards` for each.
 *
 * json: {"now","due":[{"dir","id","send_after"}],"scheduled":[…],"matrix":{"include":[{"dir","shard"}]}}
 */
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { CONFIG_FILE, parseConfig } from "../../load/config.ts";
import { parseNewsletterMeta } from "../../load/newsletter-meta.ts";
import { FindingsError } from "../../errors.ts";
import { shardMatrix } from "../../send/continuation.ts";
import { scheduleOf } from "../../send/schedule.ts";
import type { CliInput } from "../args.ts";
import { clockOf, type Io } from "../../runtime/io.ts";
import { stateDir } from "../../wiring/deps.ts";

interface Entry {
  dir: string;
  id: string;
  send_after: string;
}

export async function runDueCommand(input: Extract<CliInput, { command: "due" }>, io: Io): Promise<number> {
  const now = clockOf(io)();
  const config = parseConfig(await readFile(path.join(input.root, CONFIG_FILE), "utf8").catch(() => ""), CONFIG_FILE).config;
  if (!config) throw new FindingsError(`${CONFIG_FILE} does not pass its checks: run \`check\` on a newsletter to see why`);
  const ids = (await readdir(path.join(input.root, "newsletters"), { withFileTypes: true }).catch(() => []))
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  const due: Entry[] = [];
  const scheduled: Entry[] = [];
  for (const id of ids) {
    const dir = `newsletters/${id}`;
    const text = await readFile(path.join(input.root, dir, "newsletter.yml"), "utf8").catch(() => null);
    const meta = text === null ? null : parseNewsletterMeta(text, `${dir}/newsletter.yml`).meta;
    if (!meta?.send_after) continue;
    const begun = (await readdir(path.join(stateDir(input.root, io), "ledger", id)).catch(() => [] as string[])).some((f) => f.endsWith(".jsonl"));
    const s = scheduleOf(meta, now);
    const entry = { dir, id, send_after: meta.send_after };
    if (s.state === "due" && !begun) due.push(entry);
    else if (s.state === "scheduled") scheduled.push(entry);
  }
  const shards = shardMatrix(config.sending.shards);
  const include = due.flatMap((d) => shards.map((shard) => ({ dir: d.dir, shard })));
  if (input.format === "json") {
    io.out(`${JSON.stringify({ now: now.toISOString(), due, scheduled, matrix: { include } })}\n`);
    return 0;
  }
  io.out(
    `due now (${now.toISOString()}): ${due.length ? due.map((d) => `${d.dir} (send_after ${d.send_after})`).join(", ") : "none"}\n` +
      `scheduled later: ${scheduled.length ? scheduled.map((d) => `${d.dir} at ${d.send_after}`).join(", ") : "none"}\n` +
      `shards per send: ${shards.join(" ")}\n`,
  );
  return 0;
}
