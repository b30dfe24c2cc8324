/**
 * A bounded work queue: at most `concurrency` tasks run at once, at most `maxWaiting` wait for a slot,
 * and anything beyond is refused at once with 503 OVERLOADED instead of piling up memory and latency.
 * Uploads still being received count against the same bound (`admit`), so a full queue refuses a
 * 20 MB upload before buffering it. Each task may carry a deadline (the per-request time budget).
 */
import { FindthisError } from '../core/errors.js';

export interface QueueDepth {
  running: number;
  waiting: number;
}

export interface RunOptions {
  /** performance.now() time after which the caller no longer wants the answer (BUDGET_EXCEEDED). */
  deadline?: number;
  /**
   * When the deadline passes while the task runs: answer BUDGET_EXCEEDED at once (true: for work
   * whose result may be dropped, like a search) or wait for it (false: a write must not be reported
   * as failed once it may have been stored). The slot stays taken until the task really ends.
   */
  abandonRunning?: boolean;
}

interface Slot {
  at: number;
}

interface Waiter {
  start: (slot: Slot) => void;
  timer?: NodeJS.Timeout;
}

export class WorkQueue {
  readonly concurrency: number;
  readonly maxWaiting: number;
  private readonly waiting: Waiter[] = [];
  private readonly startedAt = new Set<Slot>();
  private receiving = 0;
  private readonly idleWaiters: Array<() => void> = [];
  private readonly onDepth: (depth: QueueDepth) => void;

  /** `onDepth` is told every change of depth (for the queue gauge). */
  constructor(concurrency: number, maxWaiting: number, onDepth: (depth: QueueDepth) => void = () => {}) {
    this.concurrency = concurrency;
    this.maxWaiting = maxWaiting;
    this.onDepth = onDepth;
  }

  get depth(): QueueDepth {
    return { running: this.startedAt.size, waiting: this.waiting.length };
  }

  /** How long the longest-running task has run, in ms (0 when none runs): a stuck extraction shows here. */
  longestRunningMs(now = performance.now()): number {
    let longest = 0;
    for (const { at } of this.startedAt) longest = Math.max(longest, now - at);
    return longest;
  }

  /**
   * Reserves room for a request whose upload is about to be received; throws OVERLOADED when running,
   * waiting and receiving requests already fill every slot. Returns the release (idempotent): call it
   * once the request is queued or answered.
   */
  admit(): () => void {
    const taken = this.startedAt.size + this.waiting.length + this.receiving;
    if (taken >= this.concurrency + this.maxWaiting) throw this.overloaded();
    this.receiving += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.receiving -= 1;
    };
  }

  /** Runs `task` when a slot is free; rejects with OVERLOADED when the wait list is full. */
  async run<T>(task: () => Promise<T>, options: RunOptions = {}): Promise<T> {
    let slot: Slot;
    if (this.startedAt.size >= this.concurrency) {
      if (this.waiting.length >= this.maxWaiting) throw this.overloaded();
      slot = await new Promise<Slot>((resolve, reject) => {
        const waiter: Waiter = { start: resolve };
        if (options.deadline !== undefined) {
          waiter.timer = setTimeout(() => {
            this.waiting.splice(this.waiting.indexOf(waiter), 1);
            this.changed();
            reject(budgetExceeded('waiting for an extraction slot'));
          }, Math.max(0, options.deadline - performance.now()));
        }
        this.waiting.push(waiter);
        this.onDepth(this.depth);
      });
    } else {
      slot = { at: performance.now() };
      this.startedAt.add(slot);
      this.onDepth(this.depth);
    }
    const work = task().finally(() => this.release(slot));
    if (options.deadline === undefined || !options.abandonRunning) return work;
    return raceDeadline(work, options.deadline);
  }

  /** Resolves once nothing runs and nothing waits (graceful shutdown). */
  idle(): Promise<void> {
    if (this.startedAt.size === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private overloaded(): FindthisError {
    const { running, waiting } = this.depth;
    return new FindthisError(
      'OVERLOADED',
      `The work queue is full (${running} running, ${waiting} waiting, ${this.receiving} uploading, limit ${this.maxWaiting} waiting); retry later`,
    );
  }

  private release(slot: Slot): void {
    this.startedAt.delete(slot);
    const next = this.waiting.shift();
    if (next) {
      // The slot passes straight to the next task, taken now: nobody can slip in before it resumes.
      clearTimeout(next.timer);
      const handed = { at: performance.now() };
      this.startedAt.add(handed);
      next.start(handed);
    }
    this.changed();
  }

  private changed(): void {
    this.onDepth(this.depth);
    if (this.startedAt.size === 0 && this.waiting.length === 0) {
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }
}

function budgetExceeded(where: string): FindthisError {
  return new FindthisError('BUDGET_EXCEEDED', `The request used up its time budget (server.requestBudgetMs) ${where}; retry later`);
}

/** `work`'s result, or BUDGET_EXCEEDED once `deadline` passes first (the work itself runs on). */
function raceDeadline<T>(work: Promise<T>, deadline: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(budgetExceeded('running its extraction')), Math.max(0, deadline - performance.now()));
  });
  work.catch(() => {}); // a late failure of abandoned work is not an unhandled rejection
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}
