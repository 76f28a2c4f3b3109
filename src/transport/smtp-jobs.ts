/**
 * The messages waiting for a connection in our SMTP client (smtp-pipelined.ts):
 * first in, first out, and a message pushed back by one connection goes to the
 * head, so the next connection free takes it first. Pure.
 */
import type { DeliveryResult, Envelope } from "../mail/port.ts";

export interface Job {
  envelope: Envelope;
  raw: Buffer;
  /** Literals to scrub from any text about this message (smtp-result.ts clean()). */
  secrets: string[];
  /** Times moved to another connection after that connection's pushback. */
  moves: number;
  resolve(r: DeliveryResult): void;
}

/**
 * A FIFO over an array with a moving head: take() costs no shift() of the whole
 * array (a send queues every message of the list at once); the consumed front is
 * dropped once it is most of the array.
 */
export class JobQueue {
  private items: Job[] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  push(job: Job): void {
    this.items.push(job);
  }

  /** The oldest job, or undefined when none waits. */
  take(): Job | undefined {
    if (this.head >= this.items.length) return undefined;
    const j = this.items[this.head]!;
    this.items[this.head++] = undefined as unknown as Job;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items.splice(0, this.head);
      this.head = 0;
    }
    return j;
  }

  /** Back to the head of the queue: taken next. */
  putBack(job: Job): void {
    if (this.head > 0) this.items[--this.head] = job;
    else this.items.unshift(job);
  }

  /** Takes every waiting job, oldest first. */
  drain(): Job[] {
    const out: Job[] = [];
    for (let j = this.take(); j; j = this.take()) out.push(j);
    return out;
  }
}
