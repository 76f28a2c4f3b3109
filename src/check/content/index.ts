/**
 * All content checks of one newsletter (docs/design.md, "Checks before sending", apart from
 * the leak scan in check/leak/scan.ts): placeholders and markers in the
 * subject, preheader and body; links and size of the body. The subject and
 * preheader are checked where they stand in newsletter.yml so findings point
 * into that file.
 */
import type { EmptyRows } from "../list.ts";
import type { Finding, Position } from "../../findings/finding.ts";
import type { MetaPositions, NewsletterMeta } from "../../load/newsletter-meta.ts";
import type { ValueLocator } from "../../load/yaml-doc.ts";
import { checkAssembledAddresses } from "./assembled.ts";
import { checkHtml } from "./html.ts";
import { checkLinks } from "./links.ts";
import { checkMarkers } from "./markers.ts";
import { checkPlaceholders } from "./placeholders.ts";
import { checkBodySize } from "./size.ts";

export { BUILTIN_FIELDS } from "./placeholders.ts";

export interface ContentInput {
  meta: NewsletterMeta;
  positions: MetaPositions;
  metaFile: string;
  bodyFile: string;
  body: string;
  /** The bound list's columns. */
  columns: readonly string[];
  /** Columns empty in some row of the list. */
  emptyFields: ReadonlySet<string>;
  /** Per empty column: how many rows and the first few, to name them (masked). */
  emptyRows?: ReadonlyMap<string, EmptyRows>;
  maxBodyBytes: number;
  /**
   * False when the bound list is missing: `list-missing` is reported
   * elsewhere, and every placeholder would otherwise be "unknown" too.
   */
  listKnown: boolean;
}

export function checkContent(input: ContentInput): Finding[] {
  const { meta, positions, metaFile, bodyFile, body, columns, emptyFields } = input;
  const emptyRows = input.emptyRows ?? new Map<string, EmptyRows>();
  const findings: Finding[] = [];

  const texts: Array<{ text: string; at: Position | undefined; locate: ValueLocator | undefined; kind: "subject" | "body" }> = [
    { text: meta.subject, at: positions.subject, locate: positions.locators?.subject, kind: "subject" },
  ];
  // The preheader is the inbox preview line: placeholders and markers matter there as in the subject.
  if (meta.preheader !== undefined) {
    texts.push({ text: meta.preheader, at: positions.preheader, locate: positions.locators?.preheader, kind: "body" });
  }
  for (const t of texts) {
    // Checked as one line from (1, 1), then each finding is placed where that
    // character stands in newsletter.yml: a folded or escaped value is not a
    // copy of one stretch of a line, so "start + offset" would be wrong.
    const where = { file: metaFile, text: t.text, baseLine: 1, baseColumn: 1, markdown: false };
    const found = [
      ...checkPlaceholders({ ...where, columns, emptyFields, emptyRows }),
      ...checkMarkers({ ...where, kind: t.kind, ...(meta.allow_markers ? { allow: meta.allow_markers } : {}) }),
      ...checkAssembledAddresses(where),
    ];
    findings.push(...found.map((f) => placeInFile(f, t.at, t.locate)));
  }

  findings.push(...checkPlaceholders({ file: bodyFile, text: body, columns, emptyFields, emptyRows, markdown: true }));
  findings.push(...checkMarkers({ file: bodyFile, text: body, kind: "body", markdown: true, ...(meta.allow_markers ? { allow: meta.allow_markers } : {}) }));
  findings.push(...checkAssembledAddresses({ file: bodyFile, text: body }));
  findings.push(...checkHtml({ file: bodyFile, text: body }));
  findings.push(...checkLinks({ file: bodyFile, text: body }));
  findings.push(...checkBodySize({ file: bodyFile, text: body, maxBytes: input.maxBodyBytes }));

  if (input.listKnown) return findings;
  return findings.filter((f) => f.rule !== "placeholder-unknown" && f.rule !== "placeholder-empty");
}

/**
 * A finding on a subject or preheader checked from (1, 1) → its place in
 * newsletter.yml. The values are single lines (the schema refuses line
 * breaks), so the column is the offset in the value plus one.
 */
function placeInFile(f: Finding, start: Position | undefined, locate: ValueLocator | undefined): Finding {
  if (f.line !== 1) return f;
  const offset = f.column - 1;
  const p = locate ? locate(offset) : { line: start?.line ?? 1, column: (start?.column ?? 1) + offset };
  return { ...f, line: p.line, column: p.column };
}
