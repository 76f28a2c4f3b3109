/**
 * The unsubscribe server over real HTTP (docs/design.md, "Recipient data and
 * suppressions"): the one-click POST a mail client builds from a delivered
 * message's List-Unsubscribe header (RFC 8058), the GET page that changes
 * nothing, forged and malformed tokens, and the page in headless Chromium.
 */
import { cpSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium, type BrowserContext } from "playwright-core";
import { afterEach, describe, expect, it } from "vitest";
import { fingerprint } from "../src/address/mask.ts";
import { startUnsubscribeServer, type RunningServer } from "../src/cli/commands/unsubscribe-server.ts";
import { pickLanguage } from "../src/unsubscribe/endpoint.ts";
import { unsubscribeRoute } from "../src/unsubscribe/route.ts";
import { FsObjectStore } from "../src/store/fs-store.ts";
import { ObjectSuppressionStore } from "../src/suppress/store.ts";
import type { Io } from "../src/runtime/io.ts";
import { PROJECT, runCli } from "./helpers/repo.ts";
import { recipientAddress, sendRepo, SAMPLE_DIR } from "./helpers/send-repo.ts";
import { startTestSmtp, type TestSmtp } from "./helpers/smtp.ts";

const SECRET = "test-secret-0123456789abcdef";
const N = 10;
const NEXT_DIR = "newsletters/2026-12-08-next-update";
let smtp: TestSmtp | null = null;
let server: RunningServer | null = null;
afterEach(async () => {
  await smtp?.close();
  await server?.close();
  smtp = null;
  server = null;
});

function quietIo(env: Record<string, string>): Io & { log: string } {
  const io = { log: "", isTTY: false, env, out: (t: string) => void (io.log += t), err: (t: string) => void (io.log += t) };
  return io;
}

function store(root: string) {
  return new ObjectSuppressionStore(new FsObjectStore(root), `${path.join(root, ".newsletter-state", "suppressions")}/`);
}

/** A repository sent once over SMTP, its unsubscribe server running; the https URL of recipient `i`'s header mapped onto the server. */
async function sentWorld() {
  smtp = await startTestSmtp();
  const root = sendRepo(N);
  cpSync(path.join(root, SAMPLE_DIR), path.join(root, NEXT_DIR), { recursive: true });
  const env = { NEWSLETTER_SMTP_URL: smtp.url, NEWSLETTER_SECRET: SECRET };
  expect((await runCli(["--root", root, "send", SAMPLE_DIR, "--without-approval"], { env })).code).toBe(0);
  const parsed = await smtp.parsed();
  const io = quietIo(env);
  server = await startUnsubscribeServer(root, io, 0);
  const base = `http://127.0.0.1:${server.port}`;
  const urlOf = (i: number): string => {
    const m = parsed.find((p) => smtp!.received[parsed.indexOf(p)]!.envelope.to[0] === recipientAddress(i))!;
    const header = m.headerLines.find((h) => h.key === "list-unsubscribe")!.line.replace(/\r?\n[ \t]+/g, " ");
    expect(m.headerLines.find((h) => h.key === "list-unsubscribe-post")?.line).toMatch(/List-Unsubscribe=One-Click/);
    const https = /<(https:\/\/[^>]+)>/.exec(header)![1]!;
    const u = new URL(https);
    return `${base}${u.pathname}${u.search}`;
  };
  return { root, env, io, urlOf, base };
}

const oneClick = (url: string, init: RequestInit = {}) =>
  fetch(url, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "List-Unsubscribe=One-Click", ...init });

describe("unsubscribe server over HTTP", () => {
  it("a one-click POST from a delivered message's List-Unsubscribe header records the fingerprint; the next send skips that recipient", async () => {
    const w = await sentWorld();
    const r = await oneClick(w.urlOf(4));
    expect(r.status).toBe(200);
    expect((await oneClick(w.urlOf(4))).status).toBe(200); // a repeated POST: still done, nothing more stored
    const entries = await store(w.root).read();
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ reason: "unsubscribe", via: "one-click", fp: fingerprint(recipientAddress(4), SECRET) });
    expect(entries[0]!.address).toBeUndefined();
    expect(w.io.log).not.toMatch(/@/);

    const before = smtp!.received.length;
    const next = await runCli(["--root", w.root, "send", NEXT_DIR, "--without-approval"], { env: w.env });
    expect(next.code).toBe(0);
    const to = smtp!.received.slice(before).map((m) => m.envelope.to[0]);
    expect(to).not.toContain(recipientAddress(4));
    expect(to).toContain(recipientAddress(5));
    expect(to).toHaveLength(N - 2); // recipient 3 is in suppressions.csv
  });

  it("a multipart/form-data one-click body is accepted too (RFC 8058 §3.2)", async () => {
    const w = await sentWorld();
    const form = new FormData();
    form.append("List-Unsubscribe", "One-Click");
    expect((await fetch(w.urlOf(6), { method: "POST", body: form })).status).toBe(200);
    expect((await store(w.root).read()).map((e) => e.fp)).toEqual([fingerprint(recipientAddress(6), SECRET)]);
  });

  it("GET shows the confirmation page and records nothing; forged, malformed and body-less requests are refused and record nothing", async () => {
    const w = await sentWorld();
    const url = w.urlOf(4);
    const get = await fetch(url, { headers: { "accept-language": "en-US,en;q=0.9" } });
    expect(get.status).toBe(200);
    const html = await get.text();
    expect(html).toMatch(/<form method="post" action="">/);
    expect(html).toMatch(/name="List-Unsubscribe" value="One-Click"/);
    expect(get.headers.get("content-security-policy")).toMatch(/frame-ancestors 'none'/);

    const u = new URL(url);
    const token = u.searchParams.get("u")!;
    const forged = token.slice(0, -1) + (token.endsWith("0") ? "1" : "0");
    const otherFp = `${fingerprint(recipientAddress(7), SECRET)}.${token.split(".")[1]}`; // someone else's fingerprint, this signature
    const cases: Array<[string, string, number]> = [
      ["forged signature", forged, 403],
      ["signature moved to another fingerprint", otherFp, 403],
      ["malformed", "not-a-token", 400],
      ["empty", "", 400],
    ];
    for (const [name, t, status] of cases) {
      u.searchParams.set("u", t);
      expect((await oneClick(u.toString())).status, name).toBe(status);
      expect((await fetch(u.toString())).status, `${name} (GET)`).toBe(status);
    }
    expect((await fetch(url, { method: "POST" })).status, "POST without the one-click body").toBe(400);
    expect((await fetch(`${w.base}/elsewhere`, { method: "POST" })).status).toBe(404);
    expect((await fetch(url, { method: "DELETE" })).status).toBe(405);
    expect(await store(w.root).read()).toEqual([]);
  });

  it("the command: listens where asked, serves the page, and stops on SIGTERM with exit 0", async () => {
    const w = await sentWorld();
    const { spawn } = await import("node:child_process");
    const child = spawn(process.execPath, [path.join(PROJECT, "bin/newsletter.js"), "--root", w.root, "unsubscribe-server", "--port", "0", "--host", "127.0.0.1"], {
      env: { ...process.env, NEWSLETTER_SECRET: SECRET },
    });
    try {
      let stderr = "";
      const port = await new Promise<number>((resolve, reject) => {
        child.stderr.on("data", (d: Buffer) => {
          stderr += d.toString("utf8");
          const m = /listening on 127\.0\.0\.1:(\d+)/.exec(stderr);
          if (m) resolve(Number(m[1]));
        });
        child.on("exit", () => reject(new Error(`exited early: ${stderr}`)));
      });
      const u = new URL(w.urlOf(4));
      const page = await fetch(`http://127.0.0.1:${port}${u.pathname}${u.search}`, { headers: { "accept-language": "ja" } });
      expect(page.status).toBe(200);
      expect(await page.text()).toContain("配信を停止しますか");
      const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });

  it("the token is found in a query parameter or in the path of sender.unsubscribe.url", () => {
    const q = unsubscribeRoute("https://corp.example/unsubscribe?list=news&u={{ unsubscribe_token }}");
    expect(q("/unsubscribe", new URLSearchParams("u=abc.def&list=news"))).toEqual({ token: "abc.def" });
    expect(q("/unsubscribe/", new URLSearchParams("u=abc.def"))).toBeNull();
    const p = unsubscribeRoute("https://corp.example/u/{{ unsubscribe_token }}/stop");
    expect(p("/u/abc.def/stop", new URLSearchParams())).toEqual({ token: "abc.def" });
    expect(p("/u/%E0%A4%A/stop", new URLSearchParams())).toEqual({ token: null });
    expect(p("/other", new URLSearchParams())).toBeNull();
  });

  it("Accept-Language picks Japanese or English", () => {
    expect(pickLanguage("ja,en;q=0.8")).toBe("ja");
    expect(pickLanguage("en-US,ja;q=0.5")).toBe("en");
    expect(pickLanguage("fr, ja-JP;q=0.7, en;q=0.6")).toBe("ja");
    expect(pickLanguage(undefined)).toBe("en");
    expect(pickLanguage("de")).toBe("en");
  });
});

describe("the confirmation page in headless Chromium", () => {
  /** The system chromium through playwright-core, a fresh profile each time. */
  const launch = (locale: string): Promise<BrowserContext> =>
    chromium.launchPersistentContext(mkdtempSync(path.join(tmpdir(), "nl-chromium-")), {
      executablePath: "/usr/bin/chromium",
      headless: true,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
      locale,
      viewport: { width: 640, height: 480 },
    });

  for (const [locale, question, done] of [
    ["ja-JP", "このニュースレターの配信を停止しますか？", "配信を停止しました"],
    ["en-US", "Do you want to stop receiving this newsletter?", "You are unsubscribed"],
  ] as const) {
    it(`renders in ${locale}, and its button unsubscribes (${locale})`, async () => {
      const w = await sentWorld();
      const context = await launch(locale);
      try {
        const page = await context.newPage();
        await page.goto(w.urlOf(8));
        expect(await page.textContent("p")).toBe(question);
        expect(await page.isVisible("button")).toBe(true);
        expect(await store(w.root).read()).toEqual([]); // loading the page changed nothing
        const shots = process.env.NEWSLETTER_SCREENSHOTS;
        if (shots) await page.screenshot({ path: path.join(shots, `unsubscribe-${locale}-confirm.png`) });
        await page.click("button");
        await page.waitForLoadState();
        expect(await page.textContent("h1")).toBe(done);
        if (shots) await page.screenshot({ path: path.join(shots, `unsubscribe-${locale}-done.png`) });
        expect((await store(w.root).read()).map((e) => e.fp)).toEqual([fingerprint(recipientAddress(8), SECRET)]);
      } finally {
        await context.close();
      }
    });
  }
});
