/**
 * JSON Schema (draft-07) of `newsletters/<id>/newsletter.yml` and the type
 * derived from it, plus the rule for `<id>` itself.
 *
 * `subject` is at most 200 characters. RFC 5322 §2.1.1 limits a header line
 * to 998 octets (78 recommended), but that limit applies after RFC 2047
 * encoding and folding, which we do; the real constraint is the reader: mail
 * clients show 40–80 characters and a subject of hundreds is almost always a
 * paste gone wrong (the body, a list). 200 leaves room for long Japanese or
 * German subjects and keeps every encoded line far inside the limit.
 *
 * Unknown keys are refused, so `attachments:`, `cc:` or `bcc:` cannot be
 * smuggled in as if they did something.
 */
import type { FromSchema } from "json-schema-to-ts";
import { FILE_START, finding, type Finding } from "../../findings/finding.ts";
import { createAjv, type PatternTexts } from "../schema-findings.ts";
import { quoteForMessage } from "../safe-text.ts";

export const SUBJECT_MAX = 200;
export const PREHEADER_MAX = 200;

/** `recipients/<name>.csv`: a file name without path separators or a leading dot. */
export const LIST_NAME_PATTERN = "^[a-z0-9][a-z0-9._-]*$";
/** One line that is not blank: no line breaks or control characters (header injection). */
export const HEADER_TEXT_PATTERN = "^(?!\\s*$)[^\\u0000-\\u001f\\u007f]+$";
/** Optional text: one line, may be empty. */
export const ONE_LINE_TEXT_PATTERN = "^[^\\u0000-\\u001f\\u007f]*$";

export const NEWSLETTER_PATTERN_TEXT: PatternTexts = {
  [LIST_NAME_PATTERN]:
    "a list name: lowercase letters, digits, '.', '_' or '-', starting with a letter or digit; it names recipients/<name>.csv (write it without .csv)",
  [HEADER_TEXT_PATTERN]: "a single line of text that is not blank (no line breaks or control characters)",
  [ONE_LINE_TEXT_PATTERN]: "a single line of text (no line breaks or control characters)",
};

/** The suppression list is never a send list. */
export const SUPPRESSION_LIST = "suppressions";

export const newsletterSchema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  $id: "https://gitops-newsletter.invalid/schema/newsletter.json",
  title: "newsletters/<id>/newsletter.yml",
  type: "object",
  additionalProperties: false,
  required: ["subject", "recipients"],
  properties: {
    subject: { type: "string", minLength: 1, maxLength: SUBJECT_MAX, pattern: HEADER_TEXT_PATTERN },
    recipients: {
      type: "string",
      maxLength: 100,
      pattern: LIST_NAME_PATTERN,
      not: { const: SUPPRESSION_LIST },
      description: "Name of the recipient list: recipients/<name>.csv.",
    },
    preheader: { type: "string", maxLength: PREHEADER_MAX, pattern: ONE_LINE_TEXT_PATTERN },
    reply_to: { type: "string", minLength: 3, maxLength: 320, pattern: ONE_LINE_TEXT_PATTERN },
    send_after: { type: "string", format: "date-time", description: "Not before this time (RFC 3339, with a time zone)." },
    cancelled: { type: "boolean", description: "true: never sent (set before the send begins; docs/design.md, \"Scheduling and continuation\")." },
    expected_change: {
      type: "integer",
      minimum: -10000000,
      maximum: 10000000,
      description: "Acknowledged row delta of the list against its last send.",
    },
    allow_markers: {
      type: "array",
      maxItems: 20,
      uniqueItems: true,
      items: { type: "string", minLength: 2, maxLength: 100, pattern: HEADER_TEXT_PATTERN },
      description: "Phrases that the test-marker check would refuse but that are real content here (a product named \"TODO リスト\").",
    },
  },
} as const;

export type NewsletterMeta = FromSchema<typeof newsletterSchema>;

let validator: ReturnType<typeof compile> | undefined;
function compile() {
  return createAjv().compile<NewsletterMeta>(newsletterSchema);
}
export function newsletterValidator(): ReturnType<typeof compile> {
  validator ??= compile();
  return validator;
}

const ID = /^(\d{4})-(\d{2})-(\d{2})-(.+)$/u;
const SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/u;
export const NEWSLETTER_ID_MAX = 100;

/**
 * Is `dirName` a newsletter id, `YYYY-MM-DD-slug`, with a date that exists on
 * the calendar and a slug of lowercase letters and digits in words joined by
 * single hyphens? Returns `newsletter-id` findings (none when valid) located
 * at `file`, by default `newsletters/<dirName>`.
 */
export function checkNewsletterId(dirName: string, file = `newsletters/${dirName}`): Finding[] {
  const problem = newsletterIdProblem(dirName);
  if (problem === null) return [];
  return [finding("newsletter-id", file, FILE_START, `newsletter folder name ${quoteForMessage(dirName)} ${problem}; use YYYY-MM-DD-slug, e.g. 2026-12-01-winter-update`)];
}

/** The reason `dirName` is not a newsletter id, or null. */
export function newsletterIdProblem(dirName: string): string | null {
  if (dirName.length > NEWSLETTER_ID_MAX) return `is longer than ${NEWSLETTER_ID_MAX} characters`;
  const m = ID.exec(dirName);
  if (!m) return "does not start with a date YYYY-MM-DD followed by - and a slug";
  const [, y, mo, d, slug] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const date = new Date(Date.UTC(year, month - 1, day));
  if (
    year < 1970 ||
    month < 1 ||
    month > 12 ||
    date.getUTCFullYear() !== year ||
    date.getUTCMonth() !== month - 1 ||
    date.getUTCDate() !== day
  ) {
    return `starts with ${y}-${mo}-${d}, which is not a date on the calendar`;
  }
  if (!SLUG.test(slug ?? "")) {
    return "has a slug that is not lowercase letters and digits in words joined by single hyphens";
  }
  return null;
}
