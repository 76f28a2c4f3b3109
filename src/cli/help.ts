/**
 * `newsletter <command> --help` (and `newsletter help <command>`): the
 * command's own flags and the environment variables it reads. A command or
 * flag added to args.ts gets its line here; test/cli-help.test.ts fails on
 * any flag a command accepts that its help does not list.
 */

export interface CommandHelp {
  /** The synopsis, without the leading `newsletter`. */
  usage: string;
  summary: string;
  flags: ReadonlyArray<readonly [flag: string, meaning: string]>;
  env: ReadonlyArray<readonly [name: string, meaning: string]>;
  exit: string;
}

const ROOT_FLAG = ["--root DIR", "the repository holding newsletters/, recipients/ and .github/newsletter.yml (default: the current folder)"] as const;
const HELP_FLAG = ["-h, --help", "this help"] as const;
const STATE_DIR = ["NEWSLETTER_STATE_DIR", "where the ledger lives (default .newsletter-state/ under --root)"] as const;
const EVENT_PATH = ["GITHUB_EVENT_PATH", "(Actions) the event file; a public repository holding recipient lists is refused"] as const;
const SECRET_LOCAL = ["NEWSLETTER_SECRET", "keys fingerprints, Message-IDs and unsubscribe tokens (≥ 16 characters; a development key when unset)"] as const;
const SECRET_SMTP = ["NEWSLETTER_SECRET", "keys fingerprints, Message-IDs and unsubscribe tokens; required for SMTP (≥ 16 characters)"] as const;
const SMTP_CLIENT = ["NEWSLETTER_SMTP_CLIENT", "`pipelined` (default) or `nodemailer`"] as const;
const DKIM = [
  ["NEWSLETTER_DKIM_PRIVATE_KEY", "PEM key: sign with DKIM (unset: no signature)"],
  ["NEWSLETTER_DKIM_SELECTOR", "the DKIM selector"],
  ["NEWSLETTER_DKIM_DOMAIN", "the signing domain (default: the From domain)"],
] as const;
const GITHUB = [
  ["GITHUB_TOKEN", "a token that may read the repository's pull requests, reviews, contents and collaborators"],
  ["GITHUB_REPOSITORY", "owner/name of the repository, e.g. corp/news (set by Actions)"],
  ["GITHUB_API_URL", "the API's base URL (default https://api.github.com; set by Actions)"],
] as const;
const DEBUG = ["NEWSLETTER_DEBUG", "1: print the stack of an internal error"] as const;
/** Lists by reference and the suppression store in an S3-compatible store: the AWS SDK's standard environment. */
const AWS = [
  ["AWS_REGION", "(s3:// lists or suppression store) the store's region (`auto` for Cloudflare R2)"],
  ["AWS_ENDPOINT_URL_S3", "(s3://) the endpoint of a store other than AWS S3 (R2, MinIO, GCS)"],
  ["AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN", "(s3://) credentials; in Actions from OIDC (aws-actions/configure-aws-credentials); else the SDK's default chain"],
] as const;

export const COMMAND_HELP: Readonly<Record<string, CommandHelp>> = {
  new: {
    usage: "new <slug>",
    summary: "creates newsletters/<today>-<slug>/ with a newsletter.yml and a body.md that pass `check`, and says what to do next",
    flags: [ROOT_FLAG, HELP_FLAG],
    env: [DEBUG],
    exit: "0 created, 2 a slug that is not lowercase words joined by '-', or the folder exists",
  },
  check: {
    usage: "check <dir>... [--format text|json|sarif|github] [--sarif-out FILE] [--manifest-out FILE]",
    summary: "schema, content, leakage, list and CODEOWNERS checks of one or more newsletter folders",
    flags: [
      ROOT_FLAG,
      ["--format text|json|sarif|github", "text for people (default), json `{\"ok\", \"findings\"}`, SARIF 2.1.0, or workflow annotations"],
      ["--sarif-out FILE", "also write the SARIF log to FILE, from the same run"],
      ["--manifest-out FILE", "also write the manifest (one folder only), from the same run"],
      HELP_FLAG,
    ],
    env: [
      STATE_DIR,
      EVENT_PATH,
      ["GITHUB_REPOSITORY, GITHUB_SERVER_URL", "(--format github, sarif) links to the repository"],
      ["GITHUB_STEP_SUMMARY", "(--format github) the job summary file the table goes to"],
      ["NO_COLOR", "no colour on a terminal"],
      DEBUG,
    ],
    exit: "0 clean, 1 findings at error level, 2 usage error or unreadable input",
  },
  manifest: {
    usage: "manifest <dir>",
    summary: "JSON: id, subject, list, recipient and suppressed counts, the sha256 of every input and one digest over all",
    flags: [ROOT_FLAG, HELP_FLAG],
    env: [STATE_DIR, EVENT_PATH, DEBUG],
    exit: "0, 2",
  },
  preview: {
    usage: "preview <dir> [--recipient EMAIL | --row N] [--out FILE] [--png FILE [--width N]]",
    summary: "the exact message one recipient gets (a draft's findings are shown, and it is previewed all the same)",
    flags: [
      ROOT_FLAG,
      ["--recipient EMAIL", "whose message (default: the first row of the list)"],
      ["--row N", "the message of the N-th recipient of the list (from 1)"],
      ["--out FILE", "where to write it: .eml, or .html for the HTML part (default outbox/preview/<id>.eml; never the terminal)"],
      ["--png FILE", "a picture of the HTML part, in headless Chromium"],
      ["--width N", "the picture's width in pixels (default 600; 375 for a phone)"],
      HELP_FLAG,
    ],
    env: [SECRET_LOCAL, STATE_DIR, ["NEWSLETTER_CHROMIUM", "the browser for --png (default /usr/bin/chromium, or Chrome where installed)"], DEBUG],
    exit: "0, 1 an input cannot be rendered, 2 (no browser for --png: how to install one), 4 the guard would abort the send",
  },
  "test-send": {
    usage: "test-send <dir> [--to EMAIL...]",
    summary: "the approval copy: the production message with the production list bound, to the approvers",
    flags: [ROOT_FLAG, ["--to EMAIL", "an approver's or allowlisted address (repeatable; default: every approver in the configuration)"], HELP_FLAG],
    env: [
      ["NEWSLETTER_TEST_SMTP_URL", "the relay for approval copies (falls back to NEWSLETTER_SMTP_URL, then the local outbox/)"],
      ["NEWSLETTER_SMTP_URL", "see NEWSLETTER_TEST_SMTP_URL"],
      ["NEWSLETTER_APPROVAL_SECRET", "keys the approval copies; required for SMTP (≥ 16 characters), never the value of NEWSLETTER_SECRET"],
      SMTP_CLIENT, ...DKIM, STATE_DIR, DEBUG,
    ],
    exit: "0, 1, 2",
  },
  send: {
    usage: "send <dir> [--dry-run] [--shard I/N] [--resend-in-doubt[=FILE]] [--time-budget SECONDS] [--expect-digest HEX] (--require-approval | --without-approval)",
    summary: "the real send: every check again, the guard on every message, the ledger; nothing before send_after",
    flags: [
      ROOT_FLAG,
      ["--dry-run", "compose and guard every message at full speed (no rate limit), send none"],
      ["--shard I/N", "send part I of N (a stable hash of the recipient), with its own ledger; I/N of sending.shards when set"],
      ["--resend-in-doubt", "also send recipients a dead run left in doubt (check the relay's log first)"],
      ["--resend-in-doubt=FILE", "the same, except the Message-IDs in FILE (one a line: the relay delivered them), recorded as sent"],
      ["--delivered-file FILE", "the same as --resend-in-doubt=FILE"],
      ["--time-budget SECONDS", "stop like SIGTERM when SECONDS have passed since the start, then exit 75: run again to continue"],
      ["--expect-digest HEX", "refuse unless the inputs' digest is HEX (the one on the pull request)"],
      ["--require-approval", "run the approval gate on GITHUB_SHA first and refuse without it"],
      ["--without-approval", "send to a relay without the approval gate, on purpose: warned, and recorded in the ledger and the audit record (a relay needs one of the two)"],
      HELP_FLAG,
    ],
    env: [
      ["NEWSLETTER_SMTP_URL", "smtp://user:pass@host:587 or smtps://…:465 (unset: the local outbox/)"],
      SMTP_CLIENT, SECRET_SMTP, ...DKIM, STATE_DIR,
      ["NEWSLETTER_STATE_BRANCH", "keep the ledger on this git branch, every claim pushed before its messages go out"],
      ["NEWSLETTER_STATE_REMOTE", "the remote of that branch (default origin)"],
      ["NEWSLETTER_COMPOSE_THREADS", "compose threads: 0 off, N, or auto (default)"],
      ["GITHUB_SHA", "(--require-approval) the commit being sent"],
      ...GITHUB.map(([n, m]) => [n, `(--require-approval) ${m}`] as const),
      EVENT_PATH, DEBUG,
    ],
    exit: "0 done, 1 refused before sending (or cancelled), 3 some recipients failed or in doubt, 4 aborted by the guard or circuit breaker, 5 scheduled for later (send_after; nothing sent), 75 time budget spent (run again to continue), 130/143 halted by a signal",
  },
  status: {
    usage: "status <dir> [--format text|json] [--address EMAIL]",
    summary: "where a newsletter stands: schedule, progress from the ledger of every shard, where the mail went, who is in doubt; with --address, whether that address got it",
    flags: [
      ROOT_FLAG,
      ["--format text|json", "json: {\"state\", \"destination\", \"send_after\", \"total\", \"sent\", \"failed\", \"retryable\", \"in_doubt\", \"remaining\", \"complete\", \"continue\", \"in_doubt_recipients\", \"matrix\", …}"],
      ["--address EMAIL", "look one address up by its fingerprint in the ledger and the suppression store (printed masked)"],
      HELP_FLAG,
    ],
    env: [STATE_DIR, ["NEWSLETTER_SECRET", "the Message-IDs and masked addresses of recipients in doubt (without it: fingerprints only); the fingerprint of --address"], ...AWS, DEBUG],
    exit: "0, 2",
  },
  due: {
    usage: "due [--format text|json]",
    summary: "the newsletters whose send_after has come, not cancelled and not begun (what the schedule sends), with the shard matrix",
    flags: [ROOT_FLAG, ["--format text|json", "json: {\"now\", \"due\", \"scheduled\", \"matrix\": {\"include\": [{\"dir\", \"shard\"}]}}"], HELP_FLAG],
    env: [STATE_DIR, DEBUG],
    exit: "0, 1 the config does not pass its checks",
  },
  pin: {
    usage: "pin <name> <file.csv> --to LOCATION",
    summary: "checks a list, uploads it as a snapshot named by its hash, reads it back and writes recipients/<name>.yml (source, sha256, rows); removes recipients/<name>.csv",
    flags: [ROOT_FLAG, ["--to LOCATION", "s3://bucket/prefix/ or a folder (ending in /: the snapshot is named <name>-<hash>.csv), or an exact location"], HELP_FLAG],
    env: [...AWS, DEBUG],
    exit: "0 pinned, 1 the list has errors (nothing uploaded), 2 unreadable file or store",
  },
  "unsubscribe-server": {
    usage: "unsubscribe-server --port N [--host ADDR]",
    summary: "RFC 8058 one-click unsubscribe at the path of sender.unsubscribe.url: a genuine POST records the token's fingerprint in the suppression store; GET shows a confirmation page",
    flags: [ROOT_FLAG, ["--port N", "the port to listen on (0: any free port)"], ["--host ADDR", "the address to listen on (default 0.0.0.0)"], HELP_FLAG],
    env: [SECRET_SMTP, STATE_DIR, ...AWS, DEBUG],
    exit: "0 stopped by SIGINT/SIGTERM, 1 no unsubscribe URL configured, 2",
  },
  "import-bounces": {
    usage: "import-bounces <file.eml>...",
    summary: "suppresses the recipients that delivery status notifications (RFC 3464) report as nonexistent (by their sending.return_path token)",
    flags: [ROOT_FLAG, HELP_FLAG],
    env: [SECRET_SMTP, STATE_DIR, ...AWS, DEBUG],
    exit: "0 every file understood, 1 some file refused (not a report, a forged or missing token), 2",
  },
  "import-suppressions": {
    usage: "import-suppressions <file.csv>",
    summary: "adds the addresses of a suppression CSV (an `email` column) to the suppression store as fingerprints, so the CSV can leave git",
    flags: [ROOT_FLAG, HELP_FLAG],
    env: [SECRET_SMTP, STATE_DIR, ...AWS, DEBUG],
    exit: "0, 1 a malformed row (nothing imported), 2",
  },
  "compact-suppressions": {
    usage: "compact-suppressions [--dry-run]",
    summary: "folds every object of the suppression store into one sorted snapshot, written and read back before the folded objects are deleted (entries appended meanwhile stay); an admin's command: it needs s3:DeleteObject on the suppression prefix",
    flags: [ROOT_FLAG, ["--dry-run", "count the objects and entries, write and delete nothing"], HELP_FLAG],
    env: [STATE_DIR, ...AWS, DEBUG],
    exit: "0, 1 an entry cannot be parsed (nothing changed), 2 the store cannot be reached",
  },
  forget: {
    usage: "forget <email>",
    summary: "erasure: a new snapshot of every list by reference without the address, older snapshots holding it deleted, the row removed from lists in git, its fingerprint suppressed for good",
    flags: [ROOT_FLAG, HELP_FLAG],
    env: [SECRET_SMTP, STATE_DIR, ...AWS, DEBUG],
    exit: "0, 1 the suppression store names the address in entries written by hand, 2",
  },
  gate: {
    usage: "gate (--sha SHA | --pr N) [--format text|json] [--publish-status]",
    summary: "verifies the approvals through the GitHub API; fails closed",
    flags: [
      ["--sha SHA", "the merge commit to verify (what the send does)"],
      ["--pr N", "a pull request: a merged one as --sha would, an open one for its progress"],
      ["--format text|json", "the report as text (default) or JSON"],
      ["--publish-status", "(with --pr) set the commit status newsletter/approvals on the head"],
      ROOT_FLAG, HELP_FLAG,
    ],
    env: [...GITHUB, ["GITHUB_SERVER_URL, GITHUB_RUN_ID", "(--publish-status) the link to the run"], DEBUG],
    exit: "0 approved, 1 not approved, 2 could not decide (an API error, 404 or truncated list)",
  },
  setup: {
    usage: "setup [--dry-run] [--format text|json]",
    summary: "creates or updates the rulesets `newsletter` (default branch; checks pinned to their apps) and `newsletter-state` (state branch; deploy keys the only bypass), never loosening them, and reports an environment open to more than the default branch",
    flags: [ROOT_FLAG, ["--dry-run", "print the request instead of sending it"], ["--format text|json", "what changed, as text (default) or JSON"], HELP_FLAG],
    env: [
      ["GITHUB_TOKEN", "a token that may administer the repository (Administration: write); the workflow's cannot"],
      GITHUB[1], GITHUB[2],
      ["NEWSLETTER_APP_ID", "the newsletter App's id: newsletter/approvals and newsletter/digest are pinned to it (unset: to GitHub Actions, with a note)"],
      ["NEWSLETTER_STATE_BRANCH", "the state branch the second ruleset protects (default newsletter-state)"],
      DEBUG,
    ],
    exit: "0, 1 an environment is open (fix it by hand), 2 error",
  },
};

export function commandHelp(command: string): string | undefined {
  const h = COMMAND_HELP[command];
  if (!h) return undefined;
  const width = Math.max(...[...h.flags, ...h.env].map(([k]) => k.length)) + 2;
  const rows = (items: CommandHelp["flags"]) => items.map(([k, v]) => `  ${k.padEnd(width)}${v}`).join("\n");
  return `usage: newsletter [--root DIR] ${h.usage}

${h.summary}

flags:
${rows(h.flags)}

environment:
${rows(h.env)}

exit: ${h.exit}
`;
}
