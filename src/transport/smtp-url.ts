/**
 * `NEWSLETTER_SMTP_URL` → connection settings. Pure; no I/O.
 *
 *   smtp://[user[:pass]@]host[:port][?requireTLS=true|false]
 *   smtps://[user[:pass]@]host[:port]
 *
 * TLS policy (stated once here):
 * - `smtps://` is implicit TLS from the first byte (RFC 8314 §3.3), default
 *   port 465 (RFC 8314 §7.3).
 * - `smtp://` upgrades with STARTTLS (RFC 3207) whenever the server offers it;
 *   a failed upgrade is an error, never a silent fall back to plain text
 *   (nodemailer `opportunisticTLS: false`). Default port 587, message
 *   submission (RFC 6409 §3.1), as nodemailer does.
 * - `?requireTLS=true` refuses to continue when STARTTLS is not offered.
 * - Credentials are never sent in clear to another machine: when the URL
 *   holds a user or password and the host is not loopback, `requireTLS`
 *   defaults to true. An attacker on the path can strip the STARTTLS
 *   capability from the EHLO reply (RFC 3207 §6 "man-in-the-middle attack
 *   … deleting the STARTTLS response"), and the AUTH PLAIN/LOGIN that
 *   follows would hand over the password. `?requireTLS=false` opts out
 *   explicitly (an internal relay without TLS).
 *
 * Unknown query parameters are refused rather than ignored: a misspelt
 * `requireTls=true` must not quietly leave TLS optional.
 */
import { UsageError } from "../errors.ts";

export interface SmtpEndpoint {
  secure: boolean;
  host: string;
  port: number;
  /** Only when the URL holds a user or a password; percent-decoded. */
  auth?: { user: string; pass: string };
  requireTLS: boolean;
  /** `smtp://host:port` or `smtps://host:port`, never credentials. */
  display: string;
}

const KNOWN_PARAMS = new Set(["requireTLS"]);

/**
 * @param label names the source in errors (an environment variable); the
 *   URL itself is never echoed, it may hold a password.
 */
export function parseSmtpUrl(url: string, label = "SMTP URL"): SmtpEndpoint {
  const bad = (why: string): UsageError =>
    new UsageError(`${label}: ${why} (expected smtp://[user:pass@]host[:port] or smtps://...)`);

  let u: URL;
  try {
    u = new URL(url.trim());
  } catch {
    throw bad("not a URL");
  }
  const secure = u.protocol === "smtps:";
  if (!secure && u.protocol !== "smtp:") throw bad(`unsupported scheme "${u.protocol.replace(/:$/, "")}"`);
  // Special-scheme parsing does not apply to smtp:, so `hostname` keeps IPv6 brackets.
  const host = u.hostname.replace(/^\[(.*)\]$/, "$1");
  if (!host) throw bad("no host");
  if (u.pathname && u.pathname !== "/") throw bad("a path is not allowed");
  if (u.hash) throw bad("a fragment is not allowed");

  const port = u.port === "" ? (secure ? 465 : 587) : Number(u.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw bad("bad port");

  let auth: SmtpEndpoint["auth"];
  if (u.username || u.password) {
    try {
      auth = { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) };
    } catch {
      throw bad("bad percent-encoding in the credentials");
    }
  }

  let requireTLS: boolean | undefined;
  for (const [key, value] of u.searchParams) {
    if (!KNOWN_PARAMS.has(key)) throw bad(`unknown parameter "${key}"`);
    if (value !== "true" && value !== "false") throw bad(`${key} must be true or false`);
    requireTLS = value === "true";
  }
  if (requireTLS === undefined) requireTLS = !secure && auth !== undefined && !isLoopback(host);

  const hostForDisplay = host.includes(":") ? `[${host}]` : host;
  return {
    secure,
    host,
    port,
    ...(auth ? { auth } : {}),
    requireTLS: secure ? false : requireTLS,
    display: `${secure ? "smtps" : "smtp"}://${hostForDisplay}:${port}`,
  };
}

/** RFC 6761 §6.3 `localhost`, 127.0.0.0/8 (RFC 1122 §3.2.1.3), ::1 (RFC 4291 §2.5.3). */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  return h === "localhost" || h.endsWith(".localhost") || /^127(\.\d{1,3}){3}$/.test(h) || h === "::1";
}
