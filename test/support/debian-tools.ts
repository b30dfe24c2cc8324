import { spawnSync } from 'node:child_process';
import { it } from 'vitest';

/**
 * Tests that lean on a Debian tool (promtool, chromium, python3 with faiss) run where the tool is
 * present, say they are skipped where it is absent, and fail under `CI=true` where it is absent:
 * `.ci/run` installs every such tool, so CI never passes by skipping them.
 */
export interface DebianTool {
  /** Whether `probe` ran and exited 0. */
  available: boolean;
  /** `it` where the tool must run (present, or CI), `it.skip` otherwise. */
  it: (name: string, test: () => unknown, timeout?: number) => void;
}

/**
 * @param command   the executable, e.g. `promtool`
 * @param debPackage the Debian package that provides it, named in the skip message
 * @param probeArgs arguments for a cheap run proving the tool works (default `--version`)
 */
export function debianTool(command: string, debPackage: string, probeArgs: string[] = ['--version']): DebianTool {
  const probe = spawnSync(command, probeArgs, { encoding: 'utf8', timeout: 20_000 });
  const available = !probe.error && probe.status === 0;
  const required = process.env.CI === 'true';
  if (!available && !required) {
    console.warn(
      `SKIPPED: tests that need ${command} (Debian package "${debPackage}") — it is not installed here. ` +
        `.ci/run installs it; under CI=true its absence is a failure.`,
    );
  }
  const run = available || required ? it : it.skip;
  return { available, it: (name, test, timeout) => run(name, test as () => Promise<void>, timeout) };
}
