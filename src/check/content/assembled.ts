/**
 * An address put together from placeholders (docs/design.md, "Address
 * detection"): `{{ first_name }}@{{ company }}`, `{{ name }}⏎@{{ domain }}`
 * or `{{ user }} at shop.example`. No field holds an address, so the list
 * checks see none, yet every message shows one, made of one customer's
 * fields — and nothing says it is that customer's own. An at sign in any
 * spelling (lookalike, reference, `[at]`, `アット`) beside a placeholder,
 * across blanks, a line break and tags, is refused; the English word `at`
 * only when a domain-like word or another placeholder follows it ("Meet
 * {{ first_name }} at our booth" is prose). The recipient's own address is
 * `{{ email }}`.
 */
import { parseTemplate } from "../../render/template.ts";
import { finding, type Finding } from "../../findings/finding.ts";
import { LineIndex } from "../leak/locate.ts";
import { AT_LOOKALIKES } from "../../detect/lookalike.ts";
import { codeRanges, inRanges } from "./code-ranges.ts";

const GAP = String.raw`(?:\s|<[^>]*>)*`;
const AT_SIGN = String.raw`(?:[@${AT_LOOKALIKES}]|&#0*64;|&#x0*40;|&commat;|[\[(（［]\s*(?:at|ａｔ)\s*[\])）］]|アット|あっと)`;
const AT_WORD = String.raw`\bat\s+(?:\{\{|[a-z0-9-]+\s*(?:\.|\bdot\b)\s*[a-z])`;
const AFTER = new RegExp(`^${GAP}(?:${AT_SIGN}|${AT_WORD})`, "iu");
const BEFORE = new RegExp(`${AT_SIGN}${GAP}$`, "iu");
const WINDOW = 40;

export function checkAssembledAddresses(input: { file: string; text: string }): Finding[] {
  const { file, text } = input;
  const parsed = parseTemplate(text);
  const slots = parsed.parts.filter((p) => p.kind === "slot");
  if (slots.length === 0) return [];
  const code = codeRanges(text);
  const lines = new LineIndex(text);
  const findings: Finding[] = [];
  for (const s of slots) {
    if (inRanges(code, s.offset)) continue;
    const end = text.indexOf("}}", s.offset) + 2;
    const after = text.slice(end, end + WINDOW);
    const before = text.slice(Math.max(0, s.offset - WINDOW), s.offset);
    if (AFTER.test(after) || BEFORE.test(before)) {
      findings.push(
        finding("placeholder-address", file, lines.at(s.offset), `\`{{ ${s.field} }}\` stands beside an at sign: the message would show an address assembled from list fields`),
      );
    }
  }
  return findings;
}
