/**
 * `.github/newsletter.yml` text → the resolved configuration, or every
 * finding at once. Pure: the caller reads the file.
 *
 * Three layers, all reported together: YAML (yaml-doc.ts), the JSON Schema
 * (schema/config.ts, with defaults applied), and the checks below that JSON
 * Schema cannot express. The configuration is returned only when there is no
 * finding at error level.
 */
import { hasErrors, sortFindings, type Finding } from "../findings/finding.ts";
import { checkAddress, parseMailbox } from "./mailbox.ts";
import { quoteForMessage } from "./safe-text.ts";
import { CONFIG_PATTERN_TEXT, configValidator, type ResolvedConfig } from "./schema/config.ts";
import { schemaFindingAt, schemaFindings } from "./schema-findings.ts";
import { escapePointer, parseYaml, type YamlSource } from "./yaml-doc.ts";

export const CONFIG_FILE = ".github/newsletter.yml";

export interface ConfigLoad {
  /** Null when any finding is at error level. */
  config: ResolvedConfig | null;
  /** Sorted by position; warnings do not block the configuration. */
  findings: Finding[];
}

export function parseConfig(text: string, file: string = CONFIG_FILE): ConfigLoad {
  const { source, data, findings } = parseYaml(text, file);
  if (data === null) return { config: null, findings: sortFindings(findings) };
  const copy: unknown = structuredClone(data);
  const validate = configValidator();
  const valid = validate(copy);
  findings.push(...schemaFindings(validate.errors, source, CONFIG_PATTERN_TEXT));
  findings.push(...configCrossChecks(data, source));
  const config = valid && !hasErrors(findings) ? copy : null;
  return { config, findings: sortFindings(findings) };
}

// The checks below run on the raw data even when the schema failed, so that
// every problem is reported at once; they look only at values of the right type.

function obj(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}
function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** The unsubscribe token placeholder; the only one the URL may hold. */
const TOKEN_PLACEHOLDER = /\{\{\s*unsubscribe_token\s*\}\}/gu;
/**
 * RFC 5321 §4.5.3.1.1: a local part is at most 64 octets; a per-message bounce address
 * (suppress/verp.ts) adds 46: `+`, a 32-hex fingerprint, `.`, a 12-hex HMAC.
 */
export const MAX_RETURN_PATH_LOCAL = 64 - 46;

const TOKEN_EXACT = /^\{\{\s*unsubscribe_token\s*\}\}$/u;

export function configCrossChecks(data: Record<string, unknown>, src: YamlSource): Finding[] {
  const out: Finding[] = [];
  const at = (pointer: string, message: string, target: "node" | "key" = "node") => out.push(schemaFindingAt(src, pointer, message, target));
  const address = (pointer: string, where: string, v: unknown) => {
    if (typeof v !== "string") return;
    const r = checkAddress(v);
    if (!r.ok) at(pointer, `${where}: ${r.problem}`);
  };
  const mailbox = (pointer: string, where: string, v: unknown) => {
    if (typeof v !== "string") return;
    const r = parseMailbox(v);
    if (!r.ok) at(pointer, `${where}: ${r.problem}`);
  };

  const sender = obj(data.sender);
  if (sender) {
    mailbox("/sender/from", "sender.from", sender.from);
    mailbox("/sender/reply_to", "sender.reply_to", sender.reply_to);
    const unsub = obj(sender.unsubscribe);
    if (unsub) {
      if (typeof unsub.url === "string" && unsub.url.startsWith("https://")) {
        const problem = unsubscribeUrlProblem(unsub.url);
        if (problem) at("/sender/unsubscribe/url", `sender.unsubscribe.url ${problem}`);
      }
      address("/sender/unsubscribe/mailto", "sender.unsubscribe.mailto", unsub.mailto);
    }
  }

  const approvals = obj(data.approvals);
  if (approvals) {
    const stages = arr(approvals.stages);
    const firstIndex = new Map<string, number>();
    stages.forEach((s, i) => {
      const name = obj(s)?.name;
      if (typeof name !== "string") return;
      const prev = firstIndex.get(name);
      if (prev === undefined) firstIndex.set(name, i);
      else at(`/approvals/stages/${i}/name`, `approvals.stages[${i}].name ${quoteForMessage(name)} is already the name of stage ${prev}; stage names must be unique`);
    });
    const problem = unsatisfiableStages(stages);
    if (problem) at("/approvals/stages", problem);
  }

  const approvers = obj(data.approvers);
  if (approvers) {
    const byLower = new Map<string, string>();
    for (const [login, addr] of Object.entries(approvers)) {
      const p = `/approvers/${escapePointer(login)}`;
      const lower = login.toLowerCase();
      const prev = byLower.get(lower);
      if (prev !== undefined) {
        at(p, `approvers: ${quoteForMessage(login)} and ${quoteForMessage(prev)} are the same GitHub login (logins are not case-sensitive)`, "key");
      } else byLower.set(lower, login);
      address(p, `approvers.${login}`, addr);
    }
  }

  const leakage = obj(data.leakage);
  if (leakage) {
    arr(leakage.allow_addresses).forEach((a, i) => address(`/leakage/allow_addresses/${i}`, `leakage.allow_addresses[${i}]`, a));
  }

  const returnPath = obj(data.sending)?.return_path;
  address("/sending/return_path", "sending.return_path", returnPath);
  if (typeof returnPath === "string" && returnPath.lastIndexOf("@") > MAX_RETURN_PATH_LOCAL) {
    at("/sending/return_path", `sending.return_path: the part before @ may be at most ${MAX_RETURN_PATH_LOCAL} characters (each message's bounce token takes 46 of the 64 that RFC 5321 allows)`);
  }

  const canary = obj(obj(data.sending)?.canary);
  if (canary) {
    arr(canary.monitors).forEach((a, i) => address(`/sending/canary/monitors/${i}`, `sending.canary.monitors[${i}]`, a));
  }
  return out;
}

/**
 * RFC 8058 one-click unsubscribe needs an https URL that identifies the
 * recipient: `{{ unsubscribe_token }}` must be in it, and no other
 * placeholder (a recipient's fields must not travel in a URL header).
 */
export function unsubscribeUrlProblem(url: string): string | null {
  const placeholders = url.match(/\{\{[^}]*\}\}/gu) ?? [];
  const foreign = placeholders.filter((p) => !TOKEN_EXACT.test(p));
  if (foreign.length > 0) {
    return `may hold only the placeholder {{ unsubscribe_token }}, found ${foreign.map((f) => quoteForMessage(f)).join(", ")}`;
  }
  if (placeholders.length === 0) {
    return "must contain {{ unsubscribe_token }}, so that one click unsubscribes the recipient who clicked (RFC 8058)";
  }
  let parsed: URL;
  try {
    parsed = new URL(url.replace(TOKEN_PLACEHOLDER, "token"));
  } catch {
    return "is not a valid URL";
  }
  if (parsed.protocol !== "https:") return "must be an https:// URL";
  if (parsed.username || parsed.password) return "must not contain a user name or password";
  if (!parsed.hostname.includes(".") && parsed.hostname !== "localhost") return "must name a host with a domain, e.g. https://corp.example/unsubscribe";
  return null;
}

/**
 * The gate needs a distinct human per stage. Stages whose owners are all
 * single users (no team) can be checked now: if some k of them have fewer
 * than k owners between them, no pull request can ever pass the gate (Hall's
 * condition, found with augmenting paths).
 */
export function unsatisfiableStages(stages: readonly unknown[]): string | null {
  interface UserStage {
    name: string;
    users: string[];
  }
  const userStages: UserStage[] = [];
  stages.forEach((s, i) => {
    const st = obj(s);
    const owners = arr(st?.owners).filter((o): o is string => typeof o === "string");
    if (owners.length === 0 || owners.some((o) => o.includes("/") || !o.startsWith("@"))) return;
    const name = typeof st?.name === "string" ? st.name : `#${i}`;
    userStages.push({ name, users: [...new Set(owners.map((o) => o.slice(1).toLowerCase()))] });
  });
  const matchOfUser = new Map<string, number>();
  const tryAssign = (si: number, seen: Set<string>): boolean => {
    for (const u of userStages[si]!.users) {
      if (seen.has(u)) continue;
      seen.add(u);
      const other = matchOfUser.get(u);
      if (other === undefined || tryAssign(other, seen)) {
        matchOfUser.set(u, si);
        return true;
      }
    }
    return false;
  };
  for (let si = 0; si < userStages.length; si++) {
    if (tryAssign(si, new Set())) continue;
    // The stages reachable from the unmatched one by alternating paths, and
    // their owners: fewer owners than stages.
    const stageSet = new Set<number>([si]);
    const users = new Set<string>();
    const queue = [si];
    while (queue.length) {
      const cur = queue.shift()!;
      for (const u of userStages[cur]!.users) {
        users.add(u);
        const m = matchOfUser.get(u);
        if (m !== undefined && !stageSet.has(m)) {
          stageSet.add(m);
          queue.push(m);
        }
      }
    }
    const names = [...stageSet].sort((a, b) => a - b).map((i) => userStages[i]!.name);
    const who = [...users].sort().map((u) => `@${u}`).join(", ");
    return (
      `approvals.stages: the stages ${names.join(", ")} can only be approved by ${who}, ` +
      `but every stage needs its own approver, so no pull request could pass the gate; add owners or a team`
    );
  }
  return null;
}
