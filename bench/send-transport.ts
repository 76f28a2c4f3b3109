/**
 * The transports alone: N pre-composed bench messages through each SMTP
 * client into the sink (Postfix smtp-sink when installed), CPU time of this
 * process per message. A tool, not a suite.
 *
 *   npx tsx bench/send-transport.ts [N] [connections]
 */
import { customer } from "../test/helpers/incident.ts";
import { createSmtpTransport } from "../src/transport/smtp.ts";
import { createPipelinedSmtpTransport } from "../src/transport/smtp-pipelined.ts";
import type { MailTransport } from "../src/mail/port.ts";
import { startSink } from "./send-sink.ts";

const n = Number(process.argv[2] ?? 10000);
const connections = Number(process.argv[3] ?? 5);
const body = "Lorem ipsum dolor sit amet, consectetur adipiscing elit.\r\n".repeat(100);
const msgs = Array.from({ length: n }, (_, i) => {
  const to = customer(i).email;
  return { to, raw: Buffer.from(`From: <news@corp.example>\r\nTo: <${to}>\r\nSubject: x\r\nMessage-ID: <m${i}@corp.example>\r\n\r\n${body}`), id: `m${i}@corp.example` };
});
const sink = await startSink();
try {
  for (let round = 0; round < 2; round++) {
    for (const [name, make] of [["nodemailer", createSmtpTransport], ["pipelined", createPipelinedSmtpTransport]] as const) {
      const t: MailTransport = make(`smtp://127.0.0.1:${sink.port}`, { connections });
      const c0 = process.cpuUsage();
      const w0 = performance.now();
      let next = 0;
      const worker = async () => {
        while (next < n) {
          const m = msgs[next++]!;
          const r = await t.deliver({ from: "news@corp.example", to: m.to }, m.raw, { messageId: m.id });
          if (!r.ok) throw new Error(r.message);
        }
      };
      await Promise.all(Array.from({ length: 20 }, worker));
      await t.close();
      const c = process.cpuUsage(c0);
      const wall = (performance.now() - w0) / 1000;
      process.stdout.write(`${name.padEnd(11)} ${(n / wall).toFixed(0).padStart(6)} msg/s  CPU ${(((c.user + c.system) / n)).toFixed(0)} µs/msg (user ${(c.user / n).toFixed(0)}, sys ${(c.system / n).toFixed(0)})\n`);
    }
  }
} finally {
  await sink.stop();
}
