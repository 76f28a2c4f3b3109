/**
 * The pull request comment (and job summary) that shows the email: a desktop
 * and a phone picture of the approval copy, side by side, and its text part
 * collapsed below (docs/design.md, "Layout and pictures"). One sticky comment
 * per pull request, updated on every push (comments.ts).
 *
 * The pictures are linked by the commit of the previews branch that holds
 * them (`<server>/<repo>/raw/<sha>/<path>`): a private repository's images
 * display for whoever can read the repository, and a link never changes
 * under a reader, since a later push makes a new commit and a new link.
 */
import { redact } from "../address/redact.ts";
import { mdCode, mdText } from "./context.ts";

export const PICTURES_MARKER = "<!-- newsletter-pictures -->";

/** GitHub shows a `text` code block's content as is; only a fence inside it could end it early. */
const FENCE = "````";

export interface PicturesComment {
  id: string;
  subject: string;
  /** The pull request head the pictures are of. */
  headSha: string;
  digest: string;
  desktop: { url: string; width: number };
  phone: { url: string; width: number };
  /** The approval copy's text part, decoded. */
  text: string;
  /** Milliseconds per picture, for the summary. */
  ms: number[];
}

export function renderPicturesComment(c: PicturesComment): string {
  const text = redact(c.text).replace(/`{4,}/g, "```");
  return [
    PICTURES_MARKER,
    `### How ${mdCode(c.id)} looks`,
    "",
    `The approval copy of ${mdCode(c.headSha.slice(0, 12))} (digest ${mdCode(c.digest.slice(0, 12))}…), as the approvers receive it, ` +
      "with each column's name in place of a customer's value. Subject: " + mdText(redact(c.subject)),
    "",
    `| Desktop (${c.desktop.width} px) | Phone (${c.phone.width} px) |`,
    "| --- | --- |",
    `| <img src="${attr(c.desktop.url)}" width="${Math.min(c.desktop.width, 600)}" alt="desktop picture of the approval copy"> ` +
      `| <img src="${attr(c.phone.url)}" width="${c.phone.width}" alt="phone picture of the approval copy"> |`,
    "",
    "<details><summary>Text part</summary>",
    "",
    `${FENCE}text`,
    text.trimEnd(),
    FENCE,
    "",
    "</details>",
    "",
    `_Rendered in headless Chromium, ${c.ms.map((m) => `${Math.round(m)} ms`).join(" and ")} per picture. Updated on every push._`,
    "",
  ].join("\n");
}

function attr(url: string): string {
  return url.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
}
