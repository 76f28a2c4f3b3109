/**
 * `newsletters/<id>/newsletter.yml` text → the newsletter's metadata, or
 * every finding at once, and where the subject and preheader text start in
 * the file so that content checks on them report the right line and column.
 * Pure: the caller reads the file (and checks the folder name with
 * `checkNewsletterId`).
 */
import { hasErrors, sortFindings, type Finding, type Position } from "../findings/finding.ts";
import { parseMailbox } from "./mailbox.ts";
import { NEWSLETTER_PATTERN_TEXT, SUPPRESSION_LIST, newsletterValidator, type NewsletterMeta } from "./schema/newsletter.ts";
import { schemaFindingAt, schemaFindings } from "./schema-findings.ts";
import { locateValue, parseYaml, valueLocator, type ValueLocator } from "./yaml-doc.ts";

export type { NewsletterMeta } from "./schema/newsletter.ts";

/**
 * First character of each text value in the file (inside the quotes of a
 * quoted value). Add the offset of a match within the value to the column:
 * exact for plain and single-line quoted values without escapes.
 */
export interface MetaPositions {
  subject?: Position;
  preheader?: Position;
  reply_to?: Position;
  /** The list name (row-count findings point here). */
  recipients?: Position;
  expected_change?: Position;
  /**
   * Exact position of every character of the subject and preheader, also
   * when the value is folded over lines or holds escapes (the plain
   * `subject` position plus an offset is then wrong).
   */
  locators?: { subject?: ValueLocator; preheader?: ValueLocator };
}

export interface NewsletterMetaLoad {
  /** Null when any finding is at error level. */
  meta: NewsletterMeta | null;
  findings: Finding[];
  positions: MetaPositions;
}

export function parseNewsletterMeta(text: string, file: string): NewsletterMetaLoad {
  const { source, data, findings } = parseYaml(text, file);
  const positions: MetaPositions = {};
  for (const key of ["subject", "preheader", "reply_to", "recipients", "expected_change"] as const) {
    const p = locateValue(source, `/${key}`);
    if (p) positions[key] = p;
  }
  for (const key of ["subject", "preheader"] as const) {
    const l = valueLocator(source, `/${key}`);
    if (l) (positions.locators ??= {})[key] = l;
  }
  if (data === null) return { meta: null, findings: sortFindings(findings), positions };

  const copy: unknown = structuredClone(data);
  const validate = newsletterValidator();
  const valid = validate(copy);
  findings.push(...schemaFindings(validate.errors, source, NEWSLETTER_PATTERN_TEXT));

  const list = data.recipients;
  if (typeof list === "string" && /\.csv$/iu.test(list)) {
    const bare = list.replace(/\.csv$/iu, "");
    findings.push(
      schemaFindingAt(
        source,
        "/recipients",
        bare === SUPPRESSION_LIST
          ? `recipients must not be the suppression list: recipients/${SUPPRESSION_LIST}.csv lists the addresses that are never mailed`
          : `recipients names the list without .csv: write "${bare}" for recipients/${list}`,
      ),
    );
  }
  if (list === SUPPRESSION_LIST) {
    // The schema says "must not be"; say why.
    const f = findings.find((x) => x.rule === "schema" && x.message.startsWith("recipients must not be"));
    if (f) f.message = `recipients must not be "${SUPPRESSION_LIST}": recipients/${SUPPRESSION_LIST}.csv lists the addresses that are never mailed`;
  }
  if (typeof data.reply_to === "string") {
    const r = parseMailbox(data.reply_to);
    if (!r.ok) findings.push(schemaFindingAt(source, "/reply_to", `reply_to: ${r.problem}`));
  }

  const meta = valid && !hasErrors(findings) ? copy : null;
  return { meta, findings: sortFindings(findings), positions };
}
