import { appendFileSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { RefusedError } from "../src/errors.ts";
import { FsLedgerStore, ledgerPath } from "../src/ledger/fs-store.ts";
import { Ledger, type LedgerOpen } from "../src/ledger/ledger.ts";
import { LedgerCorruptError, parseLedger } from "../src/ledger/records.ts";
import { foldLedger, inDoubt } from "../src/ledger/state.ts";
import { FsHistory } from "../src/ledger/fs-history.ts";

const open: LedgerOpen = {
  id: "2026-12-01-x", list: "customers", listRows: 3, digest: "d".repeat(64), shard: "all", count: 3,
  secret: "s1", now: () => new Date("2026-12-01T00:00:00Z"),
};

function tmpStore() {
  const dir = mkdtempSync(path.join(tmpdir(), "nl-ledger-"));
  const file = ledgerPath(dir, open.id, "all");
  return { dir, file, store: new FsLedgerStore(file) };
}

describe("ledger", () => {
  it("writes begin, durable claims and outcomes; a reopen sees sent, failed and in doubt", async () => {
    const { dir, file, store } = tmpStore();
    const l = await Ledger.open(store, open);
    await l.claim(["a", "b", "c"]);
    l.recordSent("a", "m1@corp.example");
    l.recordFailed("b", true, "550 mailbox unavailable", 550);
    await l.close();
    const again = await Ledger.open(new FsLedgerStore(file), open);
    expect(again.counts()).toEqual({ sent: 1, failed: 1, inDoubt: 1, retryable: 0 });
    expect(inDoubt(again.state)).toEqual(["c"]);
    // The begin record is what the check's row-count history reads.
    const hist = await new FsHistory(dir).beginRecords();
    expect(hist).toHaveLength(1);
    expect(hist[0]).toMatchObject({ id: open.id, list: "customers", list_rows: 3 });
  });

  it("ignores a torn last line but refuses corruption in the middle", () => {
    const good = `${JSON.stringify({ t: "claim", fps: ["a"], at: "x" })}\n`;
    expect(parseLedger(`${good}{"t":"sent","fp":"a"`, "f")).toHaveLength(1);
    expect(() => parseLedger(`{"t":"se\n${good}`, "f")).toThrow(LedgerCorruptError);
  });

  it("a transient failure is retryable, and a later claim makes it in doubt again", () => {
    const at = "2026-12-01T00:00:00Z";
    const s = foldLedger([
      { t: "claim", fps: ["a"], at },
      { t: "fail", fp: "a", permanent: false, reason: "421", at },
    ]);
    expect(s.recipients.get("a")).toBe("failed-transient");
    const s2 = foldLedger([
      { t: "claim", fps: ["a"], at },
      { t: "fail", fp: "a", permanent: false, reason: "421", at },
      { t: "claim", fps: ["a"], at },
    ]);
    expect(s2.recipients.get("a")).toBe("claimed");
  });

  it("refuses another digest and another secret", async () => {
    const { file, store } = tmpStore();
    await (await Ledger.open(store, open)).close();
    await expect(Ledger.open(new FsLedgerStore(file), { ...open, digest: "e".repeat(64) })).rejects.toBeInstanceOf(RefusedError);
    await expect(Ledger.open(new FsLedgerStore(file), { ...open, secret: "other" })).rejects.toBeInstanceOf(RefusedError);
  });

  it("a killed process keeps written outcomes; a torn last write is cut and the rest stays in doubt", async () => {
    const { file, store } = tmpStore();
    const l = await Ledger.open(store, open);
    await l.claim(["a", "b"]);
    l.recordSent("a", "m1@corp.example"); // written at once (write(2)), not fsynced
    await new Promise((r) => setTimeout(r, 20));
    appendFileSync(file, '{"t":"sent","fp":"b","mid":"x"'); // the process dies mid-write
    const again = await Ledger.open(new FsLedgerStore(file), open);
    expect(again.counts()).toEqual({ sent: 1, failed: 0, inDoubt: 1, retryable: 0 });
    // The torn tail was cut, so records written after the crash parse.
    again.recordSent("b", "m2@corp.example");
    await again.close();
    const third = await Ledger.open(new FsLedgerStore(file), open);
    expect(third.counts()).toEqual({ sent: 2, failed: 0, inDoubt: 0, retryable: 0 });
    expect(readFileSync(file, "utf8")).not.toMatch(/@example\.(com|net|org)/);
  });

  it("a dry run reads but never writes", async () => {
    const { file, store } = tmpStore();
    const l = await Ledger.open(store, open, { readOnly: true });
    await l.claim(["a"]);
    await l.close();
    expect(await new FsLedgerStore(file).read()).toBe("");
  });
});
