/**
 * The guard's stages timed apart (CPU time over many messages of the bench
 * newsletter): a tool for making the guard faster, not a suite.
 *
 *   npx tsx bench/send-guard-stages.ts [N]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { guardMessage } from "../src/guard/guard.ts";
import { checkLineEndings, splitEntity } from "../src/guard/header-block.ts";
import { walkMessage } from "../src/guard/mime-walk.ts";
import { Scanner, scanField } from "../src/guard/scanner.ts";
import { benchPlan, writeSendRepo } from "./send-fixture.ts";

function cpu(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

const n = Number(process.argv[2] ?? 5000);
const tmp = mkdtempSync(path.join(tmpdir(), "nl-gstages-"));
try {
  const root = path.join(tmp, "repo");
  await writeSendRepo(root, n, 5);
  const { plan, rows } = await benchPlan(root);
  const outs = rows.map((r) => plan.messageFor(r.address, r.row));
  const stages: Record<string, (o: (typeof outs)[number]) => unknown> = {
    "whole guard": (o) => guardMessage(o.raw, o.envelope, o.guard),
    checkLineEndings: (o) => checkLineEndings(o.raw),
    splitEntity: (o) => splitEntity(o.raw, "header"),
    "split+header scan": (o) => { const t = splitEntity(o.raw, "header"); const s = new Scanner(); for (const f of t.fields) scanField(s, f, f.label); return s; },
    "split+walk": (o) => { const t = splitEntity(o.raw, "header"); const s = new Scanner(); walkMessage(t.fields, t.body, s); return s; },
    "split+scan+walk (no check)": (o) => { const t = splitEntity(o.raw, "header"); const s = new Scanner(); for (const f of t.fields) scanField(s, f, f.label); walkMessage(t.fields, t.body, s); return s; },
  };
  {
    // Realistic: the first half warms the line cache, the second half is measured (fresh recipients).
    const half = outs.length >> 1;
    for (let i = 0; i < half; i++) guardMessage(outs[i]!.raw, outs[i]!.envelope, outs[i]!.guard);
    const t0 = cpu();
    for (let i = half; i < outs.length; i++) guardMessage(outs[i]!.raw, outs[i]!.envelope, outs[i]!.guard);
    process.stdout.write(`${"guard, fresh recipients".padEnd(28)} ${(((cpu() - t0) * 1000) / (outs.length - half)).toFixed(1).padStart(7)} µs/msg\n`);
    const s = new Scanner();
    const o = outs[outs.length - 1]!;
    const t = splitEntity(o.raw, "header");
    for (const f of t.fields) scanField(s, f, f.label);
    walkMessage(t.fields, t.body, s);
    const lines = (s as unknown as { lines: string[]; wheres: string[] }).lines;
    process.stdout.write(`collected lines of one message: ${lines.length}, ${lines.reduce((a, l) => a + l.length, 0)} chars\n`);
    for (const l of lines) process.stdout.write(`  ${JSON.stringify(l.slice(0, 100))}\n`);
  }
  {
    const { splitMultipart } = await import("../src/guard/multipart.ts");
    const { decodeLeaf } = await import("../src/guard/transfer.ts");
    const { triggerLines } = await import("../src/guard/triggers.ts");
    const { visibleText } = await import("../src/guard/html-visible.ts");
    const { scanQuotedPrintableLeaf } = await import("../src/guard/qp-units.ts");
    const parts = outs.map((o) => {
      const top = splitEntity(o.raw, "header");
      const ct = top.fields.find((f) => f.lower === "content-type")!.value;
      const b = /boundary="?([^";]+)"?/.exec(ct)![1]!;
      return splitMultipart(top.body, b, "x").parts.map((p) => splitEntity(p, "p").body);
    });
    const texts = parts.map((ps) => ps.map((p) => decodeLeaf(p, "quoted-printable", "utf-8", "x")));
    const time = (name: string, f: () => void) => {
      const t0 = cpu();
      f();
      process.stdout.write(`${name.padEnd(28)} ${(((cpu() - t0) * 1000) / outs.length).toFixed(1).padStart(7)} µs/msg\n`);
    };
    {
      // Interleaved in slices, so that load from elsewhere falls on both alike.
      let ta = 0;
      let tb = 0;
      for (let rep = 0; rep < 4; rep++) {
        for (let k = 0; k < parts.length; k += 250) {
          const slice = parts.slice(k, k + 250);
          let t0 = cpu();
          for (const ps of slice) { const s = new Scanner(); scanQuotedPrintableLeaf(s, "t", ps[0]!, "utf-8", false, "x"); scanQuotedPrintableLeaf(s, "h", ps[1]!, "utf-8", true, "x"); }
          ta += cpu() - t0;
          t0 = cpu();
          for (const ps of slice) { const s = new Scanner(); const a = decodeLeaf(ps[0]!, "quoted-printable", "utf-8", "x"); s.add("t", a.text, a.ascii, false); const b = decodeLeaf(ps[1]!, "quoted-printable", "utf-8", "x"); s.add("h", b.text, b.ascii, true); }
          tb += cpu() - t0;
        }
      }
      process.stdout.write(`interleaved: qp units ${((ta * 1000) / (4 * parts.length)).toFixed(1)} µs/msg, decode+add ${((tb * 1000) / (4 * parts.length)).toFixed(1)} µs/msg\n`);
    }
    for (let r = 0; r < 2; r++) {
      time("split parts", () => { for (const o of outs) { const top = splitEntity(o.raw, "header"); const ct = top.fields.find((f) => f.lower === "content-type")!.value; splitMultipart(top.body, /boundary="?([^";]+)"?/.exec(ct)![1]!, "x").parts.map((p) => splitEntity(p, "p")); } });
      time("decodeLeaf both", () => { for (const ps of parts) for (const p of ps) decodeLeaf(p, "quoted-printable", "utf-8", "x"); });
      time("triggerLines text", () => { for (const t of texts) triggerLines(t[0]!.text, t[0]!.ascii, false); });
      time("triggerLines html", () => { for (const t of texts) triggerLines(t[1]!.text, t[1]!.ascii, true); });
      time("scanner.add text+html", () => { for (const t of texts) { const s = new Scanner(); s.add("t", t[0]!.text, t[0]!.ascii, false); s.add("h", t[1]!.text, t[1]!.ascii, true); } });
      time("qp units both parts", () => { for (const ps of parts) { const s = new Scanner(); scanQuotedPrintableLeaf(s, "t", ps[0]!, "utf-8", false, "x"); scanQuotedPrintableLeaf(s, "h", ps[1]!, "utf-8", true, "x"); } });
      time("decode+add both parts", () => { for (const ps of parts) { const s = new Scanner(); const a = decodeLeaf(ps[0]!, "quoted-printable", "utf-8", "x"); s.add("t", a.text, a.ascii, false); const b = decodeLeaf(ps[1]!, "quoted-printable", "utf-8", "x"); s.add("h", b.text, b.ascii, true); } });
      time("visibleText whole html", () => { for (const t of texts) visibleText(t[1]!.text); });
    }
  }
  for (let round = 0; round < 2; round++) {
    for (const [name, fn] of Object.entries(stages)) {
      const t0 = cpu();
      for (const o of outs) fn(o);
      const t = cpu() - t0;
      process.stdout.write(`${name.padEnd(28)} ${((t * 1000) / outs.length).toFixed(1).padStart(7)} µs/msg\n`);
    }
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
