/**
 * The catalogue of check rules: id, default severity, and what the author
 * should do. SARIF's `tool.driver.rules` and the text help come from here.
 */
import type { Severity } from "./finding.ts";

export interface RuleInfo {
  severity: Severity;
  title: string;
  help: string;
}

export const RULES = {
  // Input files
  "input-missing": { severity: "error", title: "Input file is missing", help: "Create the file or fix the path that names it." },
  "input-encoding": { severity: "error", title: "Input is not UTF-8", help: "Save the file as UTF-8 (with or without BOM)." },
  "yaml-syntax": { severity: "error", title: "YAML syntax error", help: "Fix the YAML at the given line; a YAML linter shows the structure." },
  "schema": { severity: "error", title: "Configuration does not match its schema", help: "Use one of the allowed keys and values named in the message." },
  "newsletter-id": { severity: "error", title: "Newsletter folder name is not YYYY-MM-DD-slug", help: "Rename the folder, e.g. newsletters/2026-12-01-winter-update." },
  "unexpected-file": { severity: "error", title: "File not allowed in a newsletter folder", help: "A newsletter folder holds only newsletter.yml and body.md; attachments are refused. Host images and link to them over https." },
  // Repository
  "codeowners-missing": { severity: "warning", title: "No CODEOWNERS file", help: "Create .github/CODEOWNERS giving newsletters/ and recipients/ to the owners of the approval stages in .github/newsletter.yml, and everything else to the tool's administrators." },
  "codeowners-syntax": { severity: "error", title: "CODEOWNERS line GitHub skips", help: "Fix the line: GitHub ignores it, and the gate refuses a CODEOWNERS file holding such lines." },
  "codeowners-stages": { severity: "error", title: "CODEOWNERS and the approval stages disagree", help: "Give /newsletters/ and /recipients/ in CODEOWNERS exactly the owners listed under approvals.stages in .github/newsletter.yml (the same people and teams, no others)." },
  // Recipient lists
  "public-repository": { severity: "error", title: "Recipient list in a public repository", help: "Make the repository private (Settings → General → Danger Zone); addresses already pushed must be treated as exposed." },
  "list-missing": { severity: "error", title: "Recipient list not found", help: "Name a list that exists as recipients/<list>.csv." },
  "list-csv": { severity: "error", title: "CSV syntax error", help: "Fix the quoting at the given line (RFC 4180: a field with commas, quotes or newlines is quoted, quotes inside are doubled)." },
  "list-unreadable": { severity: "warning", title: "Another recipient list cannot be read", help: "Save that list as UTF-8 (Excel: \"CSV UTF-8\") before a newsletter uses it; meanwhile its addresses are looked for in this newsletter's content from a lenient reading of its bytes." },
  "list-header": { severity: "error", title: "CSV header problem", help: "The first row names the columns; one of them must be `email`; names must be unique identifiers." },
  "list-empty": { severity: "error", title: "Recipient list is empty", help: "Add recipients, or do not send this newsletter." },
  "list-invalid-address": { severity: "error", title: "Invalid recipient address", help: "Correct or remove the row." },
  "list-duplicate": { severity: "error", title: "Duplicate recipient", help: "Remove the second row: the same person would be mailed twice (addresses are compared after NFKC and lowercasing)." },
  "list-field-count": { severity: "error", title: "Row has the wrong number of fields", help: "Every row needs as many fields as the header; quote fields holding commas." },
  "list-field-unclean": { severity: "error", title: "A list field a placeholder uses is not clean text", help: "Remove the line break, control or invisible character, or the character that looks like @ or . from the field: a reader could see another address in it." },
  "list-address-in-field": { severity: "error", title: "Address hidden in a non-email column", help: "Remove the address from that column: fields are rendered into messages, and another person's address would leak." },
  "list-row-change": { severity: "error", title: "List size changed a lot since its last send", help: "Check the list is the intended one, then acknowledge with `expected_change: <row delta>` in newsletter.yml." },
  "list-in-git": { severity: "warning", title: "Recipient addresses are in git", help: "Every clone holds these addresses. Pin the list outside git with `newsletter pin` and remove the CSV (README: moving lists out of git); recipient_data.lists_in_git: error refuses such lists." },
  "list-ref": { severity: "error", title: "Recipient list reference problem", help: "recipients/<name>.yml needs source, sha256 and rows (write it with `newsletter pin`); a name may have a .csv or a .yml, not both." },
  "list-pin": { severity: "error", title: "List bytes do not match their pin", help: "The stored list is not the one that was pinned and reviewed: pin the intended snapshot again with `newsletter pin` and have it reviewed." },
  "suppression-store": { severity: "error", title: "The suppression store holds an entry that cannot be read", help: "Fix or remove the object named in the message: a suppression that silently fails to apply mails someone who said no, so nothing is sent until it is fixed." },
  "suppression-applied": { severity: "note", title: "Suppressed recipients", help: "Recipients in recipients/suppressions.csv are never mailed." },
  // Content
  "leak-list-address": { severity: "error", title: "A recipient-list address is in the content", help: "Remove it: a customer's address must never be in a newsletter's content." },
  "leak-unknown-address": { severity: "error", title: "Address outside the allowlist", help: "Remove it, or add it to leakage.allow_addresses / allow_domains in .github/newsletter.yml if it is your own public contact address." },
  "placeholder-unknown": { severity: "error", title: "Unknown placeholder", help: "Use one of the list's columns (named in the message) or a built-in field." },
  "placeholder-empty": { severity: "error", title: "Placeholder empty in some rows", help: "Fill the column in every row or remove the placeholder." },
  "placeholder-address": { severity: "error", title: "An address assembled from placeholders", help: "Do not write @ (in any spelling) beside a placeholder: `{{ name }}@{{ domain }}` puts together an address from list fields. Use `{{ email }}` for the recipient's own address." },
  "placeholder-foreign": { severity: "error", title: "Foreign or unsupported placeholder syntax", help: "Only `{{ field }}` is supported; there are no loops, conditions or partials." },
  "placeholder-syntax": { severity: "error", title: "Malformed placeholder", help: "Write placeholders as `{{ field }}`." },
  "literal-undefined": { severity: "error", title: "The text holds \"undefined\" or \"null\"", help: "That is usually a template bug; reword if it is meant." },
  "test-marker": { severity: "error", title: "Test marker in content", help: "Remove TEST/DRAFT/TODO/lorem ipsum markers before sending." },
  "html-unsupported": { severity: "error", title: "HTML a newsletter body may not use", help: "Remove it: data: URIs, <style> and style attributes, SVG, MathML and embedded documents (iframe, object, embed, frame) are refused in body.md. Link to https pages and images instead; see README, \"What HTML a body may use\"." },
  "reply-to": { severity: "error", title: "reply_to is not a strict address", help: "Write reply_to as a plain address or as \"Name <address>\", the address with only letters, digits and . _ + - before the at sign." },
  "link-insecure": { severity: "error", title: "Link is not https", help: "Use an https:// link." },
  "link-staging": { severity: "error", title: "Link to a staging or local host", help: "Link to the production site." },
  "layout-invalid": { severity: "error", title: "The layout cannot be used", help: "Fix the layout file named in .github/newsletter.yml (layout.file): only the slots listed in the message, {{ content }} once, and the unsubscribe link and postal address shown." },
  "body-empty": { severity: "error", title: "Body is empty", help: "Write the newsletter in body.md." },
  "edited-after-send": { severity: "error", title: "Newsletter changed after its send began", help: "A sent newsletter is never edited: revert the change, or create a new newsletter folder for a correction." },
  "findings-capped": { severity: "note", title: "More findings of the same rule", help: "Fix the findings shown, then run check again." },
  "body-size": { severity: "error", title: "Body too large", help: "Shorten the body or raise leakage.max_body_bytes." },
  "addresses-counted": { severity: "note", title: "Distinct addresses in content", help: "Every address in the content, after decoding and normalising, was checked." },
} as const satisfies Record<string, RuleInfo>;

export type RuleId = keyof typeof RULES;

export const RULE_IDS = Object.keys(RULES) as RuleId[];
