/**
 * `check`: load → check for each newsletter folder, over the RepoPort and
 * HistoryPort (no filesystem here). Returns the report every format renders
 * and, per newsletter, what was loaded, so `manifest` and `send` reuse the
 * exact bytes that were checked instead of reading them twice.
 *
 * docs/design.md, "Checks before sending": any address of ANY list or of the suppression list
 * in the content is an error, not only the list this newsletter is bound to.
 */
import { extractAddresses } from "../detect/extract.ts";
import { checkLeaks } from "./leak/scan.ts";
import { checkRecipientList, checkRowChange, loadSuppressions, type ListReport, type SuppressionList } from "./list.ts";
import { checkContent } from "./content/index.ts";
import { FILE_START, finding, hasErrors, sortFindings, type Finding } from "../findings/finding.ts";
import { RULES, type RuleId } from "../findings/rules.ts";
import type { CheckReport, NewsletterSummary } from "../findings/report.ts";
import { CONFIG_FILE, parseConfig } from "../load/config.ts";
import { parseNewsletterMeta, type NewsletterMeta } from "../load/newsletter-meta.ts";
import type { ResolvedConfig } from "../load/schema/config.ts";
import { checkNewsletterId, SUPPRESSION_LIST } from "../load/schema/newsletter.ts";
import type { RepoPort } from "../load/repo.ts";
import { decodeTextFile } from "../load/text-file.ts";
import { NewsletterError, UnreadableInputError } from "../errors.ts";
import { lastSendOfList, type BeginRecord, type HistoryPort } from "../ledger/history.ts";
import { canonicalSha256, computeDigest, type DigestInput } from "../digest/digest.ts";
import { AddressBook } from "./address-book.ts";
import { checkCodeownersStages } from "./codeowners-stages.ts";
import { CODEOWNERS_LOCATIONS, pickCodeowners } from "../codeowners/codeowners.ts";
import { csvSource, loadListRef, type ListSource } from "./list-source.ts";
import { StoreError, type ObjectStore } from "../store/port.ts";
import { countStoreSuppressed, readStoreSuppressions, storeLookup, type StoreSuppressions, type SuppressionKey } from "../suppress/apply.ts";
import type { SuppressionStore } from "../suppress/store.ts";
import { layoutProblems } from "../render/layout.ts";
import { placeholderColumnFindings } from "./list-fields.ts";
import { checkReplyTo } from "./reply-to.ts";
import { parseTemplate } from "../render/template.ts";

export const RECIPIENTS_DIR = "recipients";
export const NEWSLETTERS_DIR = "newsletters";
export const SUPPRESSIONS_FILE = `${RECIPIENTS_DIR}/${SUPPRESSION_LIST}.csv`;
/** The only files a newsletter folder may hold (docs/design.md, "Checks before sending": attachments refused). */
export const NEWSLETTER_FILES = ["newsletter.yml", "body.md"] as const;

/** Findings of one rule in one file before the rest are summed up: a broken file must not print 100,000 lines. */
export const MAX_PER_RULE_AND_FILE = 200;

/** Rules that mean an input could not be read at all: exit 2 instead of 1. */
export const UNREADABLE_RULES: ReadonlySet<RuleId> = new Set(["input-missing", "input-encoding"]);

export type Visibility = "public" | "private" | "internal";

export interface CheckDeps {
  repo: RepoPort;
  history: HistoryPort;
  /** The hosting repository's visibility when known (in Actions); null or absent locally. */
  visibility?: Visibility | null;
  /** Where lists by reference (`recipients/<name>.yml`) are fetched from; absent: such lists are refused. */
  store?: ObjectStore;
  /**
   * The suppression store the config names, and the key its fingerprint entries are matched with
   * (the send's). Absent: the store is not read, and the counts are those of the CSV suppressions.
   */
  suppressions?: { open(config: ResolvedConfig): SuppressionStore; key: SuppressionKey };
}

export interface CheckedNewsletter {
  dir: string;
  id: string;
  ok: boolean;
  config: ResolvedConfig | null;
  meta: NewsletterMeta | null;
  body: string | null;
  list: ListReport | null;
  /** Where the bound list's bytes come from, and how to read them again (verified). */
  listSource: ListSource | null;
  suppressions: SuppressionList | null;
  /** The suppression store as read for this run (docs/design.md, "Recipient data and suppressions"); null when not read. */
  storeSuppressions: StoreSuppressions | null;
  /**
   * Of the bound list: distinct addresses the store removes beyond the CSV suppressions, and the
   * store's fingerprint entries made under another key (only the send's key matches them).
   */
  storeCounts: { suppressed: number; unmatched: number } | null;
  /** The repository's own layout (config `layout.file`), null for the built-in one. */
  layout: LayoutFile | null;
  /** List columns the subject, preheader and body use as placeholders. */
  placeholderColumns: string[];
  /** sha256 of each input's canonical bytes, in digest order. */
  inputs: DigestInput[];
  /** Null when an input is missing or unreadable. */
  digest: string | null;
  /** The begin records of this newsletter's sends (one per shard), from the history; [] when it never began. */
  begun: BeginRecord[];
  summary: NewsletterSummary;
}

export interface CheckOutcome {
  report: CheckReport;
  newsletters: CheckedNewsletter[];
  /** True when some input could not be read (exit 2). */
  unreadable: boolean;
}

export async function checkNewsletters(deps: CheckDeps, dirs: readonly string[]): Promise<CheckOutcome> {
  const shared = await loadShared(deps);
  const all: Finding[] = [...shared.findings];
  const newsletters: CheckedNewsletter[] = [];
  for (const dir of dirs) {
    const n = await checkOne(deps, shared, dir);
    all.push(...n.findings);
    newsletters.push(n.checked);
  }
  const findings = sortFindings(capPerRule(dedupe(all), MAX_PER_RULE_AND_FILE));
  const report: CheckReport = { ok: !hasErrors(findings), findings, newsletters: newsletters.map((n) => n.summary) };
  return { report, newsletters, unreadable: findings.some((f) => UNREADABLE_RULES.has(f.rule)) };
}

export interface LayoutFile {
  file: string;
  text: string;
  sha256: string;
}

/** What every newsletter of one run shares: the config, the layout, every list, the suppressions. */
interface Shared {
  config: ResolvedConfig | null;
  configSha: string | null;
  layout: LayoutFile | null;
  findings: Finding[];
  lists: Map<string, ListReport>;
  sources: Map<string, ListSource>;
  unreadable: Map<string, Finding[]>;
  suppressions: SuppressionList | null;
  store: StoreSuppressions | null;
  book: AddressBook;
  history: Awaited<ReturnType<HistoryPort["beginRecords"]>>;
}

async function loadShared(deps: CheckDeps): Promise<Shared> {
  const { repo } = deps;
  const findings: Finding[] = [];

  let config: ResolvedConfig | null = null;
  let configSha: string | null = null;
  const configText = await readText(repo, CONFIG_FILE, findings);
  if (configText) {
    configSha = configText.sha256;
    const loaded = parseConfig(configText.text, CONFIG_FILE);
    findings.push(...loaded.findings);
    config = loaded.config;
  }
  const layout = config ? await loadLayout(repo, config, findings) : null;

  let suppressions: SuppressionList | null = null;
  if (await repo.isFile(SUPPRESSIONS_FILE)) {
    suppressions = await guardStream(SUPPRESSIONS_FILE, findings, () =>
      loadSuppressions(repo.streamBytes(SUPPRESSIONS_FILE), { file: SUPPRESSIONS_FILE }),
    );
    if (suppressions) findings.push(...suppressions.findings);
  }

  // Every list is read, because content must not hold an address of ANY list.
  const lists = new Map<string, ListReport>();
  const sources = new Map<string, ListSource>();
  /** Lists that are not UTF-8, with their findings: errors for the newsletters that bind them. */
  const unreadable = new Map<string, Finding[]>();
  const book = new AddressBook();
  if (suppressions) book.add(SUPPRESSIONS_FILE, suppressions.addresses);
  // Its addresses and fingerprints are looked for in the content like a list's (docs/design.md, "Checks before sending").
  const store = config && deps.suppressions ? await readStore(deps.suppressions, config, findings) : null;
  if (store) book.add("the suppression store", storeLookup(store));
  const inGitSeverity = config?.recipient_data.lists_in_git ?? "warning";
  if (suppressions) findings.push(inGit(SUPPRESSIONS_FILE, inGitSeverity));
  if (await repo.isDir(RECIPIENTS_DIR)) {
    for (const e of await repo.list(RECIPIENTS_DIR)) {
      const m = /^(.+)\.(csv|ya?ml)$/.exec(e.name);
      if (e.kind !== "file" || !m || m[1] === SUPPRESSION_LIST) continue;
      const name = m[1]!;
      const file = `${RECIPIENTS_DIR}/${e.name}`;
      if (sources.has(name)) {
        findings.push(finding("list-ref", file, FILE_START, `${file}: the list "${name}" is also ${sources.get(name)!.refFile}; keep one of them`));
        continue;
      }
      let loaded: { source: ListSource; report: ListReport } | null;
      if (m[2] === "csv") {
        const report = await guardStream(file, findings, () =>
          checkRecipientList(repo.streamBytes(file), {
            file,
            findAddresses: extractAddresses,
            ...(suppressions ? { suppressions: suppressions.addresses } : {}),
          }),
        );
        loaded = report && { source: csvSource(repo, name, file), report };
      } else {
        loaded = await loadListRef(repo, deps.store, name, file, suppressions?.addresses, findings);
      }
      if (m[2] === "csv" || loaded?.source.inGit) findings.push(inGit(loaded?.source.location ?? file, inGitSeverity));
      if (!loaded) continue;
      const { report } = loaded;
      lists.set(name, report);
      sources.set(name, loaded.source);
      book.add(report.file, report.addresses);
      // Its own row problems are reported when a newsletter binds it. A list that is not UTF-8 fails
      // only the newsletters that bind it: for the others its addresses are still looked for in the
      // content, from a lenient reading of its bytes (more addresses, never fewer).
      const encoding = report.findings.filter((f) => f.rule === "input-encoding");
      if (encoding.length > 0) {
        unreadable.set(name, encoding);
        if (m[2] === "csv") book.add(`${file} (read leniently)`, new Set(extractAddresses(lenientText(await repo.readBytes(file)))));
      }
      findings.push(...report.findings.filter((f) => UNREADABLE_RULES.has(f.rule) && f.rule !== "input-encoding"));
    }
  }
  // docs/design.md, "Checks before sending": a public repository holding recipient lists is refused —
  // every customer address would be readable by anyone.
  if (deps.visibility === "public") {
    const inRepo = [...sources.values()].filter((l) => l.inGit).map((l) => l.refFile);
    for (const file of inRepo.concat(suppressions ? [SUPPRESSIONS_FILE] : [])) {
      findings.push(finding("public-repository", file, FILE_START, `${file} is a recipient list in a PUBLIC repository: make the repository private, and treat these addresses as exposed`));
    }
  }
  if (config) findings.push(...(await checkCodeowners(repo, config, [...sources.values()].map((l) => l.refFile))));
  const history = await deps.history.beginRecords();
  return { config, configSha, layout, findings, lists, sources, unreadable, suppressions, store, book, history };
}

/**
 * The suppression store, read once for every newsletter of the run. A store that cannot be reached
 * is an unreadable input (exit 2), an entry that cannot be parsed an error: the send refuses both.
 */
async function readStore(deps: NonNullable<CheckDeps["suppressions"]>, config: ResolvedConfig, findings: Finding[]): Promise<StoreSuppressions | null> {
  const store = deps.open(config);
  try {
    return await readStoreSuppressions(store, deps.key);
  } catch (e) {
    if (!(e instanceof NewsletterError)) throw e;
    const rule: RuleId = e instanceof StoreError ? "input-missing" : "suppression-store";
    findings.push(finding(rule, CONFIG_FILE, FILE_START, `the suppression store ${store.location} cannot be read: ${e.message}`));
    return null;
  }
}

/** The repository's own layout, read and checked once (docs/design.md, "Layout and pictures"). */
async function loadLayout(repo: RepoPort, config: ResolvedConfig, findings: Finding[]): Promise<LayoutFile | null> {
  const file = config.layout.file;
  if (file === undefined) return null;
  const text = await readText(repo, file, findings);
  if (!text) return null;
  const problems = layoutProblems(text.text, {
    postalAddress: config.sender.postal_address !== undefined,
    unsubscribe: config.sender.unsubscribe?.url !== undefined,
  });
  for (const p of problems) findings.push(finding("layout-invalid", file, FILE_START, `${file}: ${p}`));
  return { file, text: text.text, sha256: text.sha256 };
}

/** CODEOWNERS as GitHub picks it, against the approval stages (codeowners-stages.ts). */
async function checkCodeowners(repo: RepoPort, config: ResolvedConfig, listFiles: readonly string[]): Promise<Finding[]> {
  const texts = new Map<string, string>();
  for (const p of CODEOWNERS_LOCATIONS) {
    if (!(await repo.isFile(p))) continue;
    const decoded = decodeTextFile(p, await repo.readBytes(p));
    if ("finding" in decoded) return [decoded.finding];
    texts.set(p, decoded.text);
  }
  const probes = [`${NEWSLETTERS_DIR}/0000-00-00-new/newsletter.yml`, `${NEWSLETTERS_DIR}/0000-00-00-new/body.md`, `${RECIPIENTS_DIR}/new-list.csv`, `${RECIPIENTS_DIR}/new-list.yml`, SUPPRESSIONS_FILE, ...listFiles];
  if (await repo.isDir(NEWSLETTERS_DIR)) {
    for (const e of await repo.list(NEWSLETTERS_DIR)) {
      if (e.kind === "dir") probes.push(...NEWSLETTER_FILES.map((f) => `${NEWSLETTERS_DIR}/${e.name}/${f}`));
    }
  }
  const owners = config.approvals.stages.flatMap((s) => s.owners);
  return checkCodeownersStages(pickCodeowners((p) => texts.get(p)), owners, probes);
}

async function checkOne(deps: CheckDeps, shared: Shared, dir: string): Promise<{ findings: Finding[]; checked: CheckedNewsletter }> {
  const { repo } = deps;
  const findings: Finding[] = [];
  const id = dir.split("/").pop() ?? dir;
  const summary: NewsletterSummary = { dir, id };
  const checked: CheckedNewsletter = {
    dir, id, ok: false, config: shared.config, meta: null, body: null, list: null, listSource: null,
    suppressions: shared.suppressions, storeSuppressions: shared.store, storeCounts: null, layout: shared.layout, inputs: [], digest: null, begun: [], summary, placeholderColumns: [],
  };

  if (!/^newsletters\/[^/]+$/.test(dir)) {
    // The root, `newsletters/` itself, `recipients/` or a file: not a newsletter
    // folder, so its entries are not "unexpected files" nor its missing
    // newsletter.yml an unreadable input. Say so once and check nothing else.
    const shown = dir === "" ? "." : dir;
    findings.push(finding("newsletter-id", shown, FILE_START, `${shown} is not a folder directly under newsletters/ (expected newsletters/YYYY-MM-DD-slug)`));
    return { findings, checked };
  }
  findings.push(...checkNewsletterId(id, dir));
  if (!(await repo.isDir(dir))) {
    findings.push(finding("input-missing", dir, FILE_START, `${dir}: newsletter folder not found`));
    return { findings, checked };
  }
  for (const e of await repo.list(dir)) {
    if (e.kind === "file" && (NEWSLETTER_FILES as readonly string[]).includes(e.name)) continue;
    findings.push(
      finding("unexpected-file", `${dir}/${e.name}`, FILE_START, `${dir}/${e.name}: a newsletter folder holds only ${NEWSLETTER_FILES.join(" and ")}; attachments and other files are refused`),
    );
  }

  const metaFile = `${dir}/newsletter.yml`;
  const bodyFile = `${dir}/body.md`;
  const metaText = await readText(repo, metaFile, findings);
  const bodyText = await readText(repo, bodyFile, findings);

  let meta: NewsletterMeta | null = null;
  let positions: ReturnType<typeof parseNewsletterMeta>["positions"] = {};
  if (metaText) {
    const loaded = parseNewsletterMeta(metaText.text, metaFile);
    findings.push(...loaded.findings);
    meta = loaded.meta;
    positions = loaded.positions;
    if (meta) summary.subject = meta.subject;
  }
  checked.meta = meta;
  checked.body = bodyText?.text ?? null;
  if (bodyText && bodyText.text.trim() === "") findings.push(finding("body-empty", bodyFile, FILE_START, `${bodyFile} is empty`));

  let list: ListReport | null = null;
  let listFile: string | null = null;
  if (meta) {
    list = shared.lists.get(meta.recipients) ?? null;
    checked.listSource = shared.sources.get(meta.recipients) ?? null;
    listFile = checked.listSource?.refFile ?? null;
    summary.list = meta.recipients;
    if (!list) {
      const known = [...shared.lists.keys()];
      findings.push(
        finding("list-missing", metaFile, positions.recipients ?? FILE_START,
          `recipients: ${meta.recipients} — neither recipients/${meta.recipients}.csv nor recipients/${meta.recipients}.yml can be used; lists here: ${known.length ? known.join(", ") : "none"}`),
      );
    } else {
      findings.push(...list.findings.filter((f) => !UNREADABLE_RULES.has(f.rule)), ...(shared.unreadable.get(meta.recipients) ?? []));
      summary.recipients = list.sendCount;
      summary.suppressed = list.suppressed;
      if (shared.store) {
        // As the send will apply it (suppress/apply.ts): the approvers' count is the send's.
        const suppressed = countStoreSuppressed(list.addresses, shared.store, shared.suppressions?.addresses);
        checked.storeCounts = { suppressed, unmatched: shared.store.set.otherKey };
        summary.recipients = list.sendCount - suppressed;
        summary.storeSuppressed = suppressed;
        summary.storeUnmatched = shared.store.set.otherKey;
      }
    }
    // A newsletter whose send began is history: the list has moved on since (sign-ups,
    // unsubscribes) and its own send resumes from its list snapshot, so the change of size is
    // asked about only for a newsletter not yet sent (docs/design.md, "Sent at most once").
    if (list && !shared.history.some((r) => r.id === id)) {
      const last = lastSendOfList(shared.history, meta.recipients, id);
      // A stated expected_change that does not match is reported on its own line.
      const where = (meta.expected_change !== undefined ? positions.expected_change : undefined) ?? positions.recipients;
      const change = checkRowChange({
        ...(last ? { previous: last.list_rows } : {}),
        current: list.valid,
        ...(meta.expected_change !== undefined ? { expectedChange: meta.expected_change } : {}),
        file: metaFile,
        line: where?.line ?? 1,
        column: where?.column ?? 1,
      });
      if (change) findings.push(change);
    }
  }
  checked.list = list;
  for (const [name, problems] of shared.unreadable) {
    if (name === meta?.recipients) continue;
    const f = problems[0]!;
    findings.push(finding("list-unreadable", f.file, f,
      `${f.file} cannot be read (${f.message.split(";")[0]}); ${id} does not use it, and its addresses were looked for in this newsletter's content from a lenient reading — fix it before a newsletter uses it`));
  }

  // List addresses in the content are looked for even when the config is broken: that
  // finding must not wait for a YAML typo to be fixed. Without a config there is no
  // allowlist, so only the allowlist rule waits.
  const sources = [metaText && { file: metaFile, text: metaText.text }, bodyText && { file: bodyFile, text: bodyText.text }].filter(
    (x): x is { file: string; text: string } => Boolean(x),
  );
  if (sources.length > 0) {
    const config = shared.config;
    const leaks = checkLeaks(sources, {
      listAddresses: shared.book,
      allowAddresses: new Set(config?.leakage.allow_addresses ?? []),
      allowDomains: config?.leakage.allow_domains ?? [],
    });
    findings.push(...(config ? leaks.findings : leaks.findings.filter((f) => f.rule === "leak-list-address")));
    if (config) summary.contentAddresses = leaks.distinct;
  }
  if (meta && bodyText) {
    const used = placeholderFields([meta.subject, meta.preheader ?? "", bodyText.text]);
    checked.placeholderColumns = (list?.header ?? []).filter((h) => used.has(h));
    if (list) findings.push(...placeholderColumnFindings(list, used, shared.book));
  }
  if (meta?.reply_to !== undefined) {
    const p = positions.reply_to;
    findings.push(...checkReplyTo(meta.reply_to, metaFile, p ?? { line: 1, column: 1 }));
  }
  if (metaText && bodyText && shared.config) {
    const config = shared.config;
    if (meta) {
      findings.push(
        ...checkContent({
          meta, positions, metaFile, bodyFile, body: bodyText.text,
          columns: list?.header ?? [],
          emptyFields: list?.emptyFields ?? new Set<string>(),
          ...(list ? { emptyRows: list.emptyRows } : {}),
          maxBodyBytes: config.leakage.max_body_bytes,
          // A list that could not be read (not UTF-8, say), or whose header is not one (`sep=,`, semicolons),
          // has no columns to judge placeholders by: its own finding says what to fix.
          listKnown: list !== null && list.emailColumn >= 0 && !list.findings.some((f) => UNREADABLE_RULES.has(f.rule)),
        }),
      );
    }
  }

  // The digest needs every input; it is computed even when checks fail so the
  // manifest can show it, but only a clean newsletter may be sent with it.
  if (metaText && bodyText && shared.configSha && list && listFile) {
    checked.inputs = [
      { role: "config", path: CONFIG_FILE, sha256: shared.configSha },
      { role: "newsletter", path: metaFile, sha256: metaText.sha256 },
      { role: "body", path: bodyFile, sha256: bodyText.sha256 },
      { role: "list", path: listFile, sha256: list.sha256 },
      { role: "suppressions", path: SUPPRESSIONS_FILE, sha256: shared.suppressions?.sha256 ?? null },
      // Only when the repository has its own layout, so the digests of every other newsletter stay as they were.
      ...(shared.layout ? [{ role: "layout" as const, path: shared.layout.file, sha256: shared.layout.sha256 }] : []),
    ];
    checked.digest = computeDigest(checked.inputs);
    // A newsletter folder, once its send began, is never edited again; it is judged by what its
    // own send recorded, never by the shared inputs that change after it (docs/design.md, "Sent at most once").
    const own = { newsletter: metaText.sha256, body: bodyText.sha256 };
    const begun = shared.history.filter((r) => r.id === id);
    checked.begun = begun;
    const edited = begun.find((r) => editedSince(r, own, checked.digest!));
    if (edited) {
      findings.push(
        finding("edited-after-send", edited.inputs && edited.inputs.body !== own.body ? bodyFile : metaFile, FILE_START,
          `${id} began sending on ${edited.at}; ${edited.inputs ? "its newsletter.yml or body.md changed since" : `its inputs digested to ${edited.digest.slice(0, 12)}… then and to ${checked.digest.slice(0, 12)}… now`} — a sent newsletter is never edited; write a new newsletter instead`),
      );
    }
  }
  checked.ok = !hasErrors(findings) && !hasErrors(shared.findings);
  return { findings, checked };
}

/**
 * Did the newsletter's own files change since that begin record? Records
 * with their inputs compare newsletter.yml and body.md; an older record
 * knows only the whole digest, so any shared change still counts there.
 */
function editedSince(r: BeginRecord, own: { newsletter: string; body: string }, digest: string): boolean {
  if (r.inputs) return r.inputs.newsletter !== own.newsletter || r.inputs.body !== own.body;
  return r.digest !== digest;
}

/**
 * The bytes of a list that is not UTF-8, as text an address can be found in:
 * UTF-16 by its byte-order mark (or NULs between ASCII), else Latin-1, which
 * keeps every ASCII byte (addresses of Shift_JIS or Windows-1252 files) as is.
 */
function lenientText(bytes: Uint8Array): string {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b[0] === 0xff && b[1] === 0xfe) return b.subarray(2).toString("utf16le");
  if (b[0] === 0xfe && b[1] === 0xff) return Buffer.from(b.subarray(2, 2 + ((b.length - 2) & ~1))).swap16().toString("utf16le");
  if (b.subarray(0, 64).includes(0)) return b.toString("utf16le");
  return b.toString("latin1");
}

/** The fields placeholders name in these templates. */
function placeholderFields(texts: readonly string[]): Set<string> {
  const used = new Set<string>();
  for (const t of texts) for (const p of parseTemplate(t).parts) if (p.kind === "slot") used.add(p.field);
  return used;
}

async function readText(repo: RepoPort, file: string, findings: Finding[]): Promise<{ text: string; sha256: string } | null> {
  let bytes: Uint8Array;
  try {
    bytes = await repo.readBytes(file);
  } catch (e) {
    if (e instanceof UnreadableInputError) {
      findings.push(finding("input-missing", file, FILE_START, e.message));
      return null;
    }
    throw e;
  }
  const decoded = decodeTextFile(file, bytes);
  if ("finding" in decoded) {
    findings.push(decoded.finding);
    return null;
  }
  return { text: decoded.text, sha256: canonicalSha256(bytes) };
}

async function guardStream<T>(file: string, findings: Finding[], run: () => Promise<T>): Promise<T | null> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof UnreadableInputError) {
      findings.push(finding("input-missing", file, FILE_START, e.message));
      return null;
    }
    throw e;
  }
}

/** A list whose addresses are in every clone: a warning, or an error when the config says so. */
function inGit(file: string, severity: "warning" | "error"): Finding {
  const message = `${file} keeps recipient addresses in git (every clone and all of history holds them); pin it outside git with \`newsletter pin\``;
  return finding("list-in-git", file, FILE_START, message, severity);
}

function capPerRule(findings: Finding[], max: number): Finding[] {
  const seen = new Map<string, number>();
  const out: Finding[] = [];
  const over = new Map<string, { first: Finding; count: number }>();
  for (const f of findings) {
    const k = `${f.rule}\0${f.file}`;
    const n = (seen.get(k) ?? 0) + 1;
    seen.set(k, n);
    if (n <= max) out.push(f);
    else {
      const o = over.get(k);
      if (o) o.count++;
      else over.set(k, { first: f, count: 1 });
    }
  }
  for (const { first, count } of over.values()) {
    out.push(finding("findings-capped", first.file, first, `…and ${count} more ${first.rule} finding${count === 1 ? "" : "s"} in ${first.file} from here on`));
  }
  return out;
}

/** The same config finding must not be listed once per newsletter. */
function dedupe(findings: Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const k = `${f.rule}\0${f.file}\0${f.line}\0${f.column}\0${f.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
