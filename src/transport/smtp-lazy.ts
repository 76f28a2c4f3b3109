/**
 * nodemailer's transport (smtp.ts), loaded on first use: importing
 * nodemailer costs noticeable CPU at start-up, and the send path only
 * needs it for what our own client (smtp-pipelined.ts) hands over — an
 * envelope that is not printable ASCII — or when NEWSLETTER_SMTP_CLIENT
 * asks for it. The URL and the connection count are checked at once, as
 * createSmtpTransport does (a UsageError naming the variable, never the URL).
 * Results are smtp.ts's, InDoubt included; a module that cannot load sent
 * nothing (transient).
 */
import type { DeliveryMeta, DeliveryResult, Envelope, MailTransport } from "../mail/port.ts";
import { checkConnections, transportClosed, type SmtpTransportOptions } from "./smtp-policy.ts";
import { parseSmtpUrl } from "./smtp-url.ts";

export function createLazySmtpTransport(url: string, opts: SmtpTransportOptions): MailTransport {
  const ep = parseSmtpUrl(url, opts.label);
  checkConnections(opts.connections);
  let real: Promise<MailTransport> | undefined;
  let loaded: MailTransport | null = null;
  let closed: Promise<void> | undefined;
  const load = () =>
    (real ??= import("./smtp.ts").then((m) => {
      loaded = m.createSmtpTransport(url, opts);
      return loaded;
    }));
  return {
    name: ep.display,
    async deliver(envelope: Envelope, raw: Buffer, meta?: DeliveryMeta): Promise<DeliveryResult> {
      if (closed) return transportClosed();
      try {
        return await (await load()).deliver(envelope, raw, meta);
      } catch (e) {
        // The port never rejects: a module that cannot load is a transient failure here.
        return { ok: false, permanent: false, message: `transport error: ${(e as Error)?.name ?? "unknown"}` };
      }
    },
    async preflight() {
      await (await load()).preflight?.();
    },
    abort() {
      return loaded?.abort?.() ?? 0;
    },
    close() {
      closed ??= real ? real.then((t) => t.close(), () => undefined) : Promise.resolve();
      return closed;
    },
  };
}
