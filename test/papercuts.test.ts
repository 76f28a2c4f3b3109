/**
 * What a new author trips over, each case one change to the sample
 * repository: Unicode field names, `{{ field | "default" }}`, a
 * placeholder-empty finding that names the rows, UTF-16 / `sep=` / semicolon
 * lists, a Shift_JIS list without a false "not a column", a full-width colon
 * in YAML, a preview of a draft with its findings shown, and `npm start`
 * run twice mailing the approval copies once.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { simpleParser } from "mailparser";
import { describe, expect, it } from "vitest";
import { makeRepo, PROJECT, runCli, SAMPLE_DIR, sampleText } from "./helpers/repo.ts";

const BODY = `${SAMPLE_DIR}/body.md`;
const LIST = "recipients/customers.csv";
const META = `${SAMPLE_DIR}/newsletter.yml`;
const list = sampleText(LIST);

async function preview(root: string, extra: string[] = []) {
  const file = path.join(root, "p.eml");
  const r = await runCli(["preview", SAMPLE_DIR, "--out", file, ...extra], { cwd: root });
  return { ...r, mail: r.code === 0 ? await simpleParser(readFileSync(file)) : null };
}

describe("placeholders an author writes", () => {
  it("{{ 名前 }}: a Japanese column name is a field", async () => {
    const root = makeRepo({
      [LIST]: list
        .trimEnd()
        .split("\n")
        .map((l, i) => `${l},${i === 0 ? "名前" : l.startsWith("taro") ? "山田" : "様"}`)
        .join("\n"),
      [BODY]: "{{ 名前 }}様、こんにちは。\n",
    });
    const check = await runCli(["check", SAMPLE_DIR], { cwd: root });
    expect(check.stdout + check.stderr).not.toContain("a field name is");
    expect(check.code, check.stdout).toBe(0);
    const { mail } = await preview(root);
    expect(String(mail!.html)).toContain("山田様、こんにちは。");
    expect(mail!.text).toContain("山田様、こんにちは。");
  });

  it('{{ first_name | "お客様" }}: a blank value gets the default, in both parts and the subject; no placeholder-empty', async () => {
    const root = makeRepo({
      [LIST]: list.replace("taro.yamada@example.com,Taro,", "taro.yamada@example.com, ,"),
      [BODY]: '{{ first_name | "お客様" }}、こんにちは。[ページ](https://corp.example/p?n={{ first_name | "guest" }})\n',
      [META]: sampleText(META).replace(/^subject:.*$/m, 'subject: "{{ first_name | \\"お客様\\" }}へ"'),
    });
    const check = await runCli(["check", SAMPLE_DIR], { cwd: root });
    expect(check.code, check.stdout).toBe(0);
    const { mail } = await preview(root);
    expect(String(mail!.html)).toContain("お客様、こんにちは。");
    expect(String(mail!.html)).toContain('href="https://corp.example/p?n=guest"');
    expect(mail!.text).toContain("お客様、こんにちは。");
    expect(mail!.subject).toBe("お客様へ");
    const hanako = await preview(root, ["--recipient", "hanako.sato@example.net"]);
    expect(String(hanako.mail!.html)).toContain("Hanako、こんにちは。");
  });

  it("placeholder-empty names the rows (masked) and their count, and suggests a default", async () => {
    const blank = list.replace("taro.yamada@example.com,Taro,", "taro.yamada@example.com,,").replace("hanako.sato@example.net,Hanako,", "hanako.sato@example.net,  ,");
    const r = await runCli(["check", SAMPLE_DIR], { cwd: makeRepo({ [LIST]: blank }) });
    expect(r.code).toBe(1);
    const line = r.stdout.split("\n").find((l) => l.includes("placeholder-empty"))!;
    expect(line).toContain("is empty in 2 rows of the list: line 2 (t***@e***.com), line 3 (h***@e***.net)");
    expect(line).toContain('`{{ first_name | "…" }}`');
    expect(r.stdout).not.toContain("taro.yamada@example.com");
  });
});

describe("lists saved the wrong way", () => {
  const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(list, "utf16le")]);
  const shiftJis = Buffer.from(list.replace("Taro", "\x82\xbd\x82\xeb\x82\xa4"), "latin1"); // たろう in Shift_JIS
  it.each([
    ["UTF-16 (Excel's Unicode text)", utf16, "the file is UTF-16 (Excel's \"Unicode text\")"],
    ["a sep=, first line", `sep=,\n${list}`, "is Excel's separator hint, not a header: delete that line"],
    ["semicolons", list.replace(/,/g, ";"), "the columns are separated by `;`, not commas"],
    ["Shift_JIS", shiftJis, "the file is probably Shift_JIS"],
  ])("%s: says what the file is and what to do", async (_, bytes, hint) => {
    const r = await runCli(["check", SAMPLE_DIR], { cwd: makeRepo({ [LIST]: bytes }) });
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toContain(hint);
    // Not a column problem: the list could not be read, so no "is not a column … (none)".
    expect(r.stdout).not.toContain("placeholder-unknown");
  });
});

describe("one list that cannot be read", () => {
  const sjisList = Buffer.concat([Buffer.from("email,name\nold.customer@example.org,"), Buffer.from([0x82, 0xbd, 0x82, 0xeb]), Buffer.from("\n")]);
  const utf16List = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from("email,name\nold.customer@example.org,x\n", "utf16le")]);

  it.each([
    ["Shift_JIS", sjisList],
    ["UTF-16", utf16List],
  ])("(%s) fails only the newsletters that use it; the others get a warning, and its addresses are still looked for", async (_, bytes) => {
    const root = makeRepo({ "recipients/old.csv": bytes });
    const ok = await runCli(["check", SAMPLE_DIR], { cwd: root });
    expect(ok.code, ok.stdout).toBe(0);
    expect(ok.stdout).toContain("list-unreadable");
    // Invariant: an address of ANY list in the content is an error, the unreadable one's too.
    const leak = await runCli(["check", SAMPLE_DIR], { cwd: makeRepo({ "recipients/old.csv": bytes, [BODY]: `${sampleText(BODY)}\nold.customer@example.org\n` }) });
    expect(leak.code).toBe(1);
    expect(leak.stdout).toContain("leak-list-address");
    // The newsletter that binds it is refused as before (exit 2: an unreadable input).
    const bound = await runCli(["check", SAMPLE_DIR], { cwd: makeRepo({ "recipients/old.csv": bytes, [META]: sampleText(META).replace("recipients: customers", "recipients: old") }) });
    expect(bound.code).toBe(2);
    expect(bound.stdout).toContain("input-encoding");
  });
});

describe("newsletter.yml typed with a Japanese input method", () => {
  it("a full-width colon (subject：) is named at the ：, with the fix", async () => {
    const meta = sampleText(META).replace(/^subject: /m, "subject：");
    const r = await runCli(["check", SAMPLE_DIR], { cwd: makeRepo({ [META]: meta }) });
    expect(r.code).toBe(1);
    const line = meta.split("\n").findIndex((l) => l.startsWith("subject：")) + 1;
    expect(r.stdout).toContain(`${META}:${line}:8`);
    expect(r.stdout).toContain("`subject：` has a full-width colon (：); YAML needs an ASCII colon and a space: `subject: `");
  });
});

describe("preview of a draft", () => {
  it("shows the findings and still writes the preview; never says 'nothing was sent'", async () => {
    const root = makeRepo({ [BODY]: `${sampleText(BODY)}\nTODO: add the price table\n` });
    const r = await preview(root);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("test-marker");
    expect(r.stderr).toContain("a draft: 1 check error above must be fixed before this newsletter can be sent");
    expect(r.stderr).not.toContain("nothing was sent");
    expect(r.mail!.text).toContain("TODO: add the price table");
  });

  it("still refuses a draft whose list cannot be read", async () => {
    const r = await preview(makeRepo({ [LIST]: Buffer.from([0xff, 0xfe, 0x41, 0x00]) }));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("cannot preview");
  });
});

describe("npm start, twice", () => {
  it("mails the approval copies once per digest", () => {
    const root = makeRepo();
    const start = () =>
      spawnSync(process.execPath, [path.join(PROJECT, "bin/start.js")], { cwd: root, env: { ...process.env, NEWSLETTER_SMTP_URL: "", NEWSLETTER_TEST_SMTP_URL: "" }, encoding: "utf8" });
    const record = path.join(root, ".newsletter-state", "approval", "2026-12-01-winter-update.json");
    expect(start().status).toBe(0);
    const sentAt = (JSON.parse(readFileSync(record, "utf8")) as { at: string }).at;
    const again = start();
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/test-send newsletters\/2026-12-01-winter-update: skipped, the approval copies of digest [0-9a-f]{12}… were already sent/);
    // test-send did not run again: its record (and the copies) are the first run's.
    expect((JSON.parse(readFileSync(record, "utf8")) as { at: string }).at).toBe(sentAt);
  }, 120_000);
});
