/**
 * Link checks (docs/design.md, "Checks before sending": non-https or staging links):
 * `link-insecure` for any link whose transport is not TLS (http, ftp, ws,
 * protocol-relative, script URLs) and `link-staging` for hosts that only
 * resolve inside the company or on the author's machine. `mailto:` targets
 * are the leak scan's business; `{{ unsubscribe_url }}` is filled by us.
 * Links inside code blocks are checked too: the reader gets them all the same.
 *
 * Messages name only scheme and host: paths and queries carry tokens and,
 * sometimes, addresses (`?email=…`).
 */
import { finding, type Finding } from "../../findings/finding.ts";
import { LineIndex } from "../leak/locate.ts";
import { extractLinks } from "./link-extract.ts";

export interface LinkInput {
  file: string;
  text: string;
  baseLine?: number;
  baseColumn?: number;
}

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;
/** Schemes that carry the reader somewhere without TLS, or run code. */
const INSECURE = new Set(["http", "ftp", "ws", "telnet", "gopher", "file", "webcal", "nntp", "news", "javascript", "vbscript"]);
const AUTHORITY = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/(?:[^@/?#\s]*@)?(\[[^\]]*\]|[^:/?#\s]*)/;

/** First labels that name a non-production environment. */
export const STAGING_LABELS: ReadonlySet<string> = new Set([
  "staging", "stage", "stg", "dev", "qa", "uat", "preview", "sandbox", "test",
]);
// `dev2`, `stg-1`, `qa_3`: numbered environments.
const NUMBERED = /^([a-z]+)(?:[-_]?\d+)$/;
/**
 * Special-use names that never resolve publicly: `localhost` (RFC 6761 §6.3),
 * `.local` (RFC 6762 mDNS), `.home.arpa` (RFC 8375), `.internal` (ICANN
 * reserved it for private use in 2024), and the common `.lan`/`.localdomain`.
 */
const PRIVATE_SUFFIXES = ["localhost", "local", "internal", "home.arpa", "lan", "localdomain"];
const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;
// Browsers also read `http://2130706433/` and `http://0x7f.1/` as IPv4 (WHATWG URL §3.5).
const NUMERIC_HOST = /^(?:0x[0-9a-f]+|\d+)(?:\.(?:0x[0-9a-f]+|\d+)){0,3}$/;

export function checkLinks(input: LinkInput): Finding[] {
  const lines = new LineIndex(input.text, input.baseLine, input.baseColumn);
  const findings: Finding[] = [];
  for (const link of extractLinks(input.text)) {
    const url = link.url;
    if (url.startsWith("{{") || url.startsWith("#")) continue;
    const pos = lines.at(link.offset);
    if (link.implicitHttp) {
      const host = hostOf(`http://${url}`) ?? "www";
      findings.push(finding("link-insecure", input.file, pos, `bare ${host} becomes an http:// link; write https://${host}`));
      checkHost(findings, input.file, pos, host);
      continue;
    }
    if (url.startsWith("//")) {
      findings.push(finding("link-insecure", input.file, pos, `protocol-relative link to ${hostOf(`x:${url}`) ?? "?"} has no scheme in an e-mail; write https://`));
      continue;
    }
    const scheme = SCHEME.exec(url)?.[1]?.toLowerCase();
    if (scheme === undefined) continue; // relative: not a transport question
    const host = hostOf(url);
    if (INSECURE.has(scheme)) {
      findings.push(finding("link-insecure", input.file, pos, `${scheme}:${host === null ? "" : `//${host}`} link is not https`));
    }
    if (host !== null) checkHost(findings, input.file, pos, host);
  }
  return findings;
}

function hostOf(url: string): string | null {
  const h = AUTHORITY.exec(url)?.[1];
  if (h === undefined || h === "" || h.includes("{")) return null;
  return h.toLowerCase().replace(/\.$/, "");
}

function checkHost(findings: Finding[], file: string, pos: { line: number; column: number }, host: string): void {
  const why = stagingReason(host);
  if (why !== null) findings.push(finding("link-staging", file, pos, `${host} ${why}`));
}

/** Why `host` is not a production host, or null. Exported for the tests and the guard. */
export function stagingReason(host: string): string | null {
  if (host.startsWith("[")) return "is an IP address literal";
  if (IPV4.test(host) || NUMERIC_HOST.test(host)) return "is an IP address";
  for (const s of PRIVATE_SUFFIXES) {
    if (host === s || host.endsWith(`.${s}`)) return `is a private name (.${s})`;
  }
  const labels = host.split(".");
  if (labels.length < 2) return "is a single-label host name";
  // The first label always, even of a two-label host (`staging.example`):
  // that also flags a public site such as `dev.to`, the price of catching
  // `staging.<brand>.com`-style hosts without a Public Suffix List. Deeper
  // labels count when they are subdomains (`api.staging.corp.example`),
  // never the registrable name and TLD.
  for (let i = 0; i < labels.length; i++) {
    if (i > 0 && i >= labels.length - 2) break;
    const l = labels[i]!;
    const base = NUMBERED.exec(l)?.[1] ?? l;
    if (STAGING_LABELS.has(base)) return `has the environment label "${l}"`;
  }
  return null;
}
