/** A DKIM verifier written from RFC 6376 with node:crypto, independent of the signer under test. */
import { createHash, verify as rsaVerify, type KeyObject } from "node:crypto";
import { expect } from "vitest";

export /** Verifies the first DKIM-Signature (relaxed/relaxed, rsa-sha256) with the given public key. */
function verifyDkim(raw: Buffer, publicKey: KeyObject): { bodyOk: boolean; signatureOk: boolean; h: string[] } {
  const s = raw.toString("latin1");
  const end = s.indexOf("\r\n\r\n");
  const fields = s
    .slice(0, end)
    .split(/\r\n(?![ \t])/)
    .map((f) => ({ name: f.slice(0, f.indexOf(":")).trim().toLowerCase(), text: f }));
  const sigField = fields.find((f) => f.name === "dkim-signature");
  if (sigField === undefined) throw new Error("no DKIM-Signature");
  const tags = new Map<string, string>();
  for (const t of sigField.text.slice(sigField.text.indexOf(":") + 1).split(";")) {
    const eq = t.indexOf("=");
    if (eq < 0) continue;
    tags.set(t.slice(0, eq).replace(/\s+/g, ""), t.slice(eq + 1).replace(/\r\n[ \t]/g, " ").trim());
  }
  expect(tags.get("a")).toBe("rsa-sha256");
  expect(tags.get("c")).toBe("relaxed/relaxed");

  const canonBody = s
    .slice(end + 4)
    .split("\r\n")
    .map((l) => l.replace(/[ \t]+/g, " ").replace(/ $/, ""));
  while (canonBody.length > 0 && canonBody[canonBody.length - 1] === "") canonBody.pop();
  const bodyText = canonBody.length === 0 ? "" : `${canonBody.join("\r\n")}\r\n`;
  const bh = createHash("sha256").update(bodyText, "latin1").digest("base64");
  const bodyOk = bh === tags.get("bh")!.replace(/\s+/g, "");

  const canon = (text: string): string =>
    `${text.slice(0, text.indexOf(":")).trim().toLowerCase()}:${text
      .slice(text.indexOf(":") + 1)
      .replace(/\r\n/g, "")
      .replace(/[ \t]+/g, " ")
      .trim()}`;
  const h = tags.get("h")!.split(":").map((x) => x.trim().toLowerCase());
  const used = new Set<number>();
  let data = "";
  for (const name of h) {
    for (let i = fields.length - 1; i >= 0; i--) {
      if (fields[i]!.name === name && !used.has(i) && fields[i] !== sigField) {
        used.add(i);
        data += `${canon(fields[i]!.text)}\r\n`;
        break;
      }
    }
  }
  data += canon(sigField.text.replace(/(^|;)(\s*b\s*=)[^;]*/, "$1$2"));
  const b = Buffer.from(tags.get("b")!.replace(/\s+/g, ""), "base64");
  const signatureOk = rsaVerify("sha256", Buffer.from(data, "latin1"), publicKey, b);
  return { bodyOk, signatureOk, h };
}

