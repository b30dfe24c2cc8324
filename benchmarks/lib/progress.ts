import { performance } from 'node:perf_hooks';

/**
 * Progress of one long step on stderr: a rewritten line on a terminal, a line every 10% otherwise.
 * Returns the `(done, total)` callback to feed, and `finish()` to print the elapsed time.
 */
export function progress(label: string): { update: (done: number, total: number) => void; finish: (note?: string) => number } {
  const started = performance.now();
  const tty = process.stderr.isTTY === true;
  let lastTenth = -1;
  const elapsed = () => ((performance.now() - started) / 1000).toFixed(1);
  return {
    update(done, total) {
      const share = total > 0 ? done / total : 1;
      if (tty) {
        process.stderr.write(`\r${label}: ${(share * 100).toFixed(0)}% (${done}/${total}) ${elapsed()} s   `);
      } else if (Math.floor(share * 10) > lastTenth) {
        lastTenth = Math.floor(share * 10);
        process.stderr.write(`${label}: ${(share * 100).toFixed(0)}% (${done}/${total}) ${elapsed()} s\n`);
      }
    },
    finish(note = '') {
      const seconds = (performance.now() - started) / 1000;
      process.stderr.write(`${tty ? '\r' : ''}${label}: done in ${seconds.toFixed(1)} s${note ? ` ${note}` : ''}          \n`);
      return seconds;
    },
  };
}
