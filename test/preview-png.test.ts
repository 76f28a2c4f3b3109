/**
 * `preview --png` in headless Chromium (docs/design.md, "Layout and
 * pictures"): the picture has the width asked for, is not blank (many
 * distinct colours), the phone-width page has no horizontal scroll, and
 * without a browser the command says how to install one. The pictures are
 * kept under the temporary folder and their paths printed, to be looked at.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { PNG } from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../src/load/config.ts";
import { parseNewsletterMeta } from "../src/load/newsletter-meta.ts";
import { BROWSER_PATHS, openPictureTaker, type PictureTaker } from "../src/picture/chromium.ts";
import { makePlan } from "../src/send/plan.ts";
import { fixtureFiles, JA_DIR } from "./helpers/ja-fixture.ts";
import { makeRepo, runCli } from "./helpers/repo.ts";

const BROWSER = BROWSER_PATHS.find((p) => existsSync(p));
/** CI installs Chromium (.ci/run): there the browser tests must run, never skip. */
const runBrowser = BROWSER !== undefined || process.env.CI === "true";
const OUT = path.join(tmpdir(), "newsletter-pictures");


/** Distinct colours, and the share of pixels that are not the most common colour (the background). */
function colours(png: Buffer): { width: number; height: number; distinct: number; inked: number } {
  const img = PNG.sync.read(png);
  const counts = new Map<number, number>();
  for (let i = 0; i < img.data.length; i += 4) {
    const c = (img.data[i]! << 16) | (img.data[i + 1]! << 8) | img.data[i + 2]!;
    counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  const most = Math.max(...counts.values());
  const total = img.width * img.height;
  return { width: img.width, height: img.height, distinct: counts.size, inked: (total - most) / total };
}

describe.runIf(runBrowser)("preview --png in headless Chromium", () => {
  beforeAll(() => mkdirSync(OUT, { recursive: true }));

  it.each([
    ["Japanese fixture, desktop", "ja", 600],
    ["Japanese fixture, phone", "ja", 375],
    ["English sample, desktop", "en", 600],
  ] as const)("%s: a picture of the width asked for that is not blank", async (name, which, width) => {
    const root = which === "ja" ? makeRepo(fixtureFiles()) : makeRepo();
    const dir = which === "ja" ? JA_DIR : "newsletters/2026-12-01-winter-update";
    const file = path.join(OUT, `${which}-${width}.png`);
    const r = await runCli(["preview", dir, "--png", file, "--width", String(width)], { cwd: root });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`\\(${width} px wide, \\d+ ms\\) written to `));
    expect(r.stdout).not.toMatch(/taro\.yamada@example\.com/); // the recipient is masked
    const c = colours(readFileSync(file));
    console.log(`picture (${name}): ${file} ${c.width}x${c.height}, ${c.distinct} colours; ${r.stdout.trim()}`);
    expect(c.width).toBe(width);
    expect(c.height).toBeGreaterThan(500);
    expect(c.distinct).toBeGreaterThan(100); // anti-aliased text in several colours, not a blank page
    expect(c.inked).toBeGreaterThan(0.02);
  });

  it("--row picks the recipient: row 2 of the Japanese list is 佐藤, not 山田", async () => {
    const root = makeRepo(fixtureFiles());
    const r = await runCli(["preview", JA_DIR, "--png", path.join(OUT, "ja-row2.png"), "--row", "2"], { cwd: root });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("for h***@e***.net");
    const r9 = await runCli(["preview", JA_DIR, "--png", path.join(OUT, "x.png"), "--row", "9"], { cwd: root });
    expect(r9.code).toBe(2);
    expect(r9.stderr).toContain("--row 9: recipients/customers.csv has 2 recipients");
  });

  describe("the phone-width page has no horizontal scroll", () => {
    let taker: PictureTaker;
    beforeAll(async () => {
      taker = await openPictureTaker(BROWSER ?? "/usr/bin/chromium");
    });
    afterAll(async () => taker?.close());

    it("the browser (sandbox off) gets none of the tool's environment: no token, no secret", async () => {
      const saved = process.env.GITHUB_TOKEN;
      process.env.GITHUB_TOKEN = "ghs_MustNotReachTheBrowser0123456789";
      const t = await openPictureTaker(BROWSER ?? "/usr/bin/chromium");
      try {
        const pids = spawnSync("pgrep", ["-f", t.profile], { encoding: "utf8" }).stdout.split("\n").filter(Boolean);
        expect(pids.length).toBeGreaterThan(0);
        let seen = 0;
        for (const pid of pids) {
          let env: string;
          try {
            env = readFileSync(`/proc/${pid}/environ`, "latin1");
          } catch {
            continue; // exited meanwhile
          }
          seen++;
          expect(env).not.toContain("ghs_MustNotReachTheBrowser");
        }
        expect(seen).toBeGreaterThan(0);
      } finally {
        await t.close();
        if (saved === undefined) delete process.env.GITHUB_TOKEN;
        else process.env.GITHUB_TOKEN = saved;
      }
    });

    it("with long URLs, a wide table, a large image and a code block", async () => {
      const files = fixtureFiles();
      const body =
        `${files[`${JA_DIR}/body.md`]}\n\nhttps://corp.example/${"a-very-long-path-segment/".repeat(8)}\n\n` +
        `| 製品 | 説明 | 価格 | 在庫 | 発売日 | 備考 |\n|---|---|---|---|---|---|\n| エクスポートプロフェッショナル | ${"長い説明".repeat(10)} | 12,000円 | あり | 2026-12-01 | なし |\n\n` +
        `<img src="data:image/svg+xml;base64,${Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="400"><rect width="1200" height="400" fill="#4a90d9"/></svg>').toString("base64")}" width="1200" alt="横長の画像">\n\n` +
        "```\n" + "const x = 'a long line of code that does not wrap on its own at all';".repeat(3) + "\n```\n";
      const plan = makePlan({
        id: "2026-12-01-fuyu-news", config: parseConfig(files[".github/newsletter.yml"]!).config!,
        meta: parseNewsletterMeta(files[`${JA_DIR}/newsletter.yml`]!, "n.yml").meta!, body,
        digest: "f".repeat(64), secret: "s".repeat(32), date: new Date(Date.UTC(2026, 11, 1)),
      });
      const html = plan.htmlFor("taro.yamada@example.com", { first_name: "山田", plan: "ビジネス" });
      const [phone, desktop, dark] = await taker.take(html, [{ width: 375 }, { width: 900 }, { width: 375, colorScheme: "dark" }]);
      console.log(`picture (stress, phone): ${path.join(OUT, "stress-375.png")}`);
      await import("node:fs/promises").then((fs) => fs.writeFile(path.join(OUT, "stress-375.png"), phone!.png));
      await import("node:fs/promises").then((fs) => fs.writeFile(path.join(OUT, "stress-900.png"), desktop!.png));
      expect(phone!.scrollWidth).toBeLessThanOrEqual(375);
      // On a wide screen the card stays 600 px: grey page on both sides.
      const img = PNG.sync.read(desktop!.png);
      const px = (x: number, y: number) => img.data.subarray((y * img.width + x) * 4, (y * img.width + x) * 4 + 3).toString("hex");
      expect(px(20, 300)).toBe("f2f4f7");
      expect(px(880, 300)).toBe("f2f4f7");
      expect(px(450, 300)).not.toBe("f2f4f7");
      // Dark mode: the @media rule left in the <style> turns the card dark and the text light.
      await import("node:fs/promises").then((fs) => fs.writeFile(path.join(OUT, "stress-375-dark.png"), dark!.png));
      const d = PNG.sync.read(dark!.png);
      const at = (x: number, y: number) => d.data.subarray((y * d.width + x) * 4, (y * d.width + x) * 4 + 3).toString("hex");
      expect(at(5, 200)).toBe("161b22");
      expect(dark!.scrollWidth).toBeLessThanOrEqual(375);
    });
  });
});

describe("preview --png without a browser", () => {
  it("says how to install one, and exits 2 before any work", async () => {
    const r = await runCli(["preview", "newsletters/2026-12-01-winter-update", "--png", path.join(OUT, "none.png")], {
      cwd: makeRepo(),
      env: { NEWSLETTER_CHROMIUM: "/nonexistent/chromium" },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("apt-get install -y chromium fonts-noto-cjk");
    expect(existsSync(path.join(OUT, "none.png"))).toBe(false);
  });

  it.each([
    [["--width", "50"], "--width must be a whole number from 200 to 2000"],
    [["--row", "0"], "--row must be a whole number"],
    [["--width", "400", "--out", "x.eml"], "--width and --row go with --png FILE"],
  ])("refuses %j", async (args, message) => {
    const extra = args.includes("--out") ? args : ["--png", "x.png", ...args];
    const r = await runCli(["preview", "newsletters/2026-12-01-winter-update", ...extra], { cwd: makeRepo() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });
});
