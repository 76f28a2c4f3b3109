/**
 * The test-marker vocabulary (docs/design.md, "Address detection" is not
 * it; README, "Test markers"): English and Japanese phrases that say a mail
 * is a test, a dummy or not to be sent, the per-newsletter `allow_markers`,
 * and the code-span exemption of the developer words.
 */
import { describe, expect, it } from "vitest";
import { checkMarkers } from "../src/check/content/markers.ts";
import { baseWorld, checkWorld, DIR } from "./helpers/disguise-world.ts";

const body = (text: string, allow?: string[]) =>
  checkMarkers({ file: "body.md", text, kind: "body", ...(allow ? { allow } : {}) }).filter((f) => f.rule === "test-marker");

describe("phrases that say a mail is not for sending", () => {
  it.each([
    "This is a test of the new template.",
    "This is only a test.",
    "Test email: please ignore.",
    "Do not send before Friday.",
    "Don't send yet.",
    "Not to be sent to customers.",
    "Dummy text follows.",
    "Placeholder image below.",
    "Read more at [insert link here].",
    "Dear [your name],",
    "Change me before release.",
    "WIP: the pricing section.",
    "For internal review only.",
    "これはテストです。",
    "このメールは送信しないでください。",
    "配信禁止",
    "仮のテキストです。",
    "価格は要確認。",
    "〇〇様、いつもありがとうございます。",
    "サンプル文章を差し替えてください。",
    "テスト用のメールです。",
  ])("%s", (text) => {
    expect(body(text).length, text).toBeGreaterThan(0);
  });
});

describe("real content passes", () => {
  it.each([
    "We tested the new exports in production for a month.",
    "The latest contest results are in.",
    "Send us your feedback.",
    "A sample of our customers said so.",
    "配信停止はこちらから。",
    "ベータテスターを募集しています。",
    "日程は未定です。",
    "Please do not reply to this message.",
  ])("%s", (text) => {
    expect(body(text)).toEqual([]);
  });
});

describe("allow_markers", () => {
  it("allows a phrase that is real content, and only inside that phrase", () => {
    const text = "Our new app TODO リスト is out.\nTODO: fix the link.";
    expect(body(text).length).toBe(2);
    const left = body(text, ["TODO リスト"]);
    expect(left.map((f) => f.line)).toEqual([2]);
  });

  it("is read from newsletter.yml", async () => {
    const w = baseWorld();
    w[`${DIR}/body.md`] = "Hello {{ first_name }},\n\nOur new app TODO リスト is out.\n";
    expect((await checkWorld(w)).findings.some((f) => f.rule === "test-marker")).toBe(true);
    w[`${DIR}/newsletter.yml`] += 'allow_markers: ["TODO リスト"]\n';
    const r = await checkWorld(w);
    expect(r.findings.filter((f) => f.severity === "error")).toEqual([]);
  });
});

describe("code spans and blocks", () => {
  it("exempt the developer words TODO, FIXME and XXX, and nothing else", () => {
    expect(body("Run `grep TODO src/` to see them.")).toEqual([]);
    expect(body("```\n// TODO: remove\n```\n")).toEqual([]);
    expect(body("`lorem ipsum` is a test phrase").length).toBe(1);
  });
});
