/**
 * Pictures of a message's HTML part, taken in headless Chromium driven by
 * playwright-core (the system browser: Debian's `chromium`, or the Chrome
 * GitHub's runners ship). An adapter: the only module that starts a browser.
 * See docs/design.md, "Layout and pictures".
 *
 * The page is the HTML exactly as composed. JavaScript is off, and the only
 * requests let through are https images (what a mail client would load);
 * everything else — http, fonts, frames, any other scheme — is aborted, so a
 * picture never calls anything but image hosts.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { UsageError } from "../errors.ts";

/** Where the browser is looked for, first match wins. */
export const BROWSER_PATHS = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome", "/usr/bin/google-chrome-stable"];

/** The flags of a quiet, throw-away headless browser (no sync, updates or background calls home). */
export const BROWSER_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

export const INSTALL_HINT =
  "no Chromium or Chrome found (looked for NEWSLETTER_CHROMIUM, then " +
  `${BROWSER_PATHS.join(", ")}). Install one: on Debian or Ubuntu \`sudo apt-get install -y chromium fonts-noto-cjk\` ` +
  "(the fonts draw Japanese), on macOS install Google Chrome and set " +
  "NEWSLETTER_CHROMIUM=\"/Applications/Google Chrome.app/Contents/MacOS/Google Chrome\"";

/** The browser to use: NEWSLETTER_CHROMIUM, else the first of BROWSER_PATHS that exists; a UsageError saying how to install one. */
export function findBrowser(env: Readonly<Record<string, string | undefined>>): string {
  const own = env.NEWSLETTER_CHROMIUM;
  if (own) {
    if (!existsSync(own)) throw new UsageError(`NEWSLETTER_CHROMIUM=${own} does not exist; ${INSTALL_HINT}`);
    return own;
  }
  const found = BROWSER_PATHS.find((p) => existsSync(p));
  if (!found) throw new UsageError(INSTALL_HINT);
  return found;
}

export interface Shot {
  /** Viewport width in CSS pixels (the picture's width: device scale 1). */
  width: number;
  /** Initial viewport height; the picture is the full page. */
  height?: number;
  /** The reader's colour scheme (prefers-color-scheme); light by default. */
  colorScheme?: "light" | "dark";
}

export interface Picture {
  png: Buffer;
  width: number;
  /** The document's scroll width at this viewport: more than `width` means a horizontal scroll bar. */
  scrollWidth: number;
  /** Milliseconds to load the page and take the picture (browser start excluded). */
  ms: number;
}

export interface PictureTaker {
  /** The browser's fresh profile folder (removed by close). */
  readonly profile: string;
  /** One full-page PNG of `html` per shot, in order. */
  take(html: string, shots: readonly Shot[]): Promise<Picture[]>;
  /** Stops the browser and removes its profile. Always call it. */
  close(): Promise<void>;
}

/** The browser's whole environment: a path, a home inside its profile, a UTF-8 locale. */
export function browserEnv(profile: string): Record<string, string> {
  return { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: profile, LANG: "C.UTF-8", TZ: "UTC" };
}

/** Starts the browser once, with a fresh profile, for any number of pictures. */
export async function openPictureTaker(executablePath: string): Promise<PictureTaker> {
  const { chromium } = await import("playwright-core");
  const profile = mkdtempSync(path.join(tmpdir(), "newsletter-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: BROWSER_FLAGS,
    // The browser renders a pull request's HTML, sandbox off (--no-sandbox): it gets none of this
    // process's environment (GITHUB_TOKEN, mail secrets), only what it needs to run and find fonts.
    env: browserEnv(profile),
    javaScriptEnabled: false,
    deviceScaleFactor: 1,
    viewport: { width: 600, height: 800 },
    serviceWorkers: "block",
    offline: false,
  });
  await context.route("**/*", (route) => {
    const req = route.request();
    const url = req.url();
    if (url.startsWith("data:") || (url.startsWith("https://") && req.resourceType() === "image")) return route.continue();
    return route.abort("blockedbyclient");
  });
  return {
    profile,
    async take(html, shots) {
      const out: Picture[] = [];
      const page = await context.newPage();
      try {
        for (const shot of shots) {
          const t0 = performance.now();
          await page.setViewportSize({ width: shot.width, height: shot.height ?? 200 });
          await page.emulateMedia({ colorScheme: shot.colorScheme ?? "light" });
          await page.setContent(html, { waitUntil: "load", timeout: 30_000 });
          const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
          const png = await page.screenshot({ fullPage: true, type: "png", animations: "disabled" });
          out.push({ png, width: shot.width, scrollWidth, ms: performance.now() - t0 });
        }
      } finally {
        await page.close();
      }
      return out;
    },
    async close() {
      try {
        await context.close();
      } finally {
        rmSync(profile, { recursive: true, force: true });
      }
    },
  };
}
