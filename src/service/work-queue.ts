/**
 * A bounded work queue: at most `concurrency` tasks run at once, at most `maxWaiting` wait for a slot,
 * and anything beyond is refused at once with 503 OVERLOADED instead of piling up memory and latency.
 */
import { FindthisError } from '../core/errors.js';

export interface QueueDepth {
  running: number;
  waiting: number;
}

export class WorkQueue {
  readonly concurrency: number;
  readonly maxWaiting: number;
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly idleWaiters: Array<() => void> = [];
  private readonly onDepth: (depth: QueueDepth) => void;

  /** `onDepth` is told every change of depth (for the queue gauge). */
  constructor(concurrency: number, maxWaiting: number, onDepth: (depth: QueueDepth) => void = () => {}) {
    this.concurrency = concurrency;
    this.maxWaiting = maxWaiting;
    this.onDepth = onDepth;
  }

  get depth(): QueueDepth {
    return { running: this.running, waiting: this.waiting.length };
  }

  /** Runs `task` when a slot is free; rejects with OVERLOADED when the wait list is full. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.maxWaiting) {
        throw new FindthisError(
          'OVERLOADED',
          `The work queue is full (${this.running} running, ${this.waiting.length} waiting, limit ${this.maxWaiting}); retry later`,
        );
      }
      await new Promise<void>((resolve) => {
        this.waiting.push(resolve);
        this.onDepth(this.depth);
      });
    } else {
      this.running += 1;
      this.onDepth(this.depth);
    }
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  /** Resolves once nothing runs and nothing waits (graceful shutdown). */
  idle(): Promise<void> {
    if (this.running === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) {
      next(); // the slot passes straight to the next task: `running` is unchanged
    } else {
      this.running -= 1;
    }
    this.onDepth(this.depth);
    if (this.running === 0 && this.waiting.length === 0) {
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }
}
