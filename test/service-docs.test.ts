/** docs/reference.md documents every error code, metric, config key and env override. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ERRORS } from '../src/core/errors.js';
import { ENV_OVERRIDES } from '../src/config/load.js';
import { DEFAULT_CONFIG } from '../src/config/schema.js';
import { DEFAULT_INDEX_PARAMS, HNSW_PARAM_RANGES, LSH_PARAM_RANGES, LSH_PLANES } from '../src/indexing/params.js';
import { PROJECT_ROOT } from '../src/models/manifest.js';
import { ServiceMetrics } from '../src/service/metrics.js';

const section = readFileSync(join(PROJECT_ROOT, 'docs', 'reference.md'), 'utf8');

function keyPaths(object: object, prefix = ''): string[] {
  return Object.entries(object).flatMap(([key, value]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    return value && typeof value === 'object' && !Array.isArray(value) ? keyPaths(value, path) : [path];
  });
}

describe('docs/reference.md', () => {
  it('exists', () => {
    expect(section.length).toBeGreaterThan(1000);
  });

  it.each(Object.entries(ERRORS))('documents error code %s with its HTTP status', (code, { status }) => {
    expect(section).toMatch(new RegExp(`\\| \`${code}\` \\| ${status} \\|`));
  });

  it('documents every findthis metric', async () => {
    const registry = new Registry();
    new ServiceMetrics(registry, { defaultMetrics: false });
    const names = (await registry.getMetricsAsJSON()).map((metric) => metric.name);
    expect(names.length).toBeGreaterThan(8);
    for (const name of names) expect(section).toContain(`\`${name}\``);
  });

  it('shows each config key\'s current default', () => {
    const shown = (value: unknown): string =>
      typeof value === 'number' ? String(value) : `\`${typeof value === 'string' ? value || "''" : JSON.stringify(value)}\``;
    const flatten = (object: object, prefix = ''): Array<[string, unknown]> =>
      Object.entries(object).flatMap(([key, value]) => {
        const path = prefix ? `${prefix}.${key}` : key;
        return value && typeof value === 'object' && !Array.isArray(value) ? flatten(value, path) : [[path, value] as [string, unknown]];
      });
    for (const [path, value] of flatten(DEFAULT_CONFIG)) {
      const row = new RegExp(`\\| \`${path.replace(/\./g, '\\.')}\` \\|[^|]*\\| ([^|]+) \\|`).exec(section);
      expect(row?.[1]?.trim().split(' ')[0], path).toBe(shown(value));
    }
  });

  it('documents every config key and env override', () => {
    for (const path of keyPaths(DEFAULT_CONFIG)) expect(section).toContain(`\`${path}\``);
    for (const [env, path] of Object.entries(ENV_OVERRIDES)) expect(section).toContain(`| \`${path}\` | \`${env}\` |`);
  });

  it.each([
    ...Object.entries(LSH_PARAM_RANGES).map(([name, range]) => ['LSH', name, range, DEFAULT_INDEX_PARAMS.lsh[name as keyof typeof LSH_PARAM_RANGES]] as const),
    ...Object.entries(HNSW_PARAM_RANGES).map(([name, range]) => ['HNSW', name, range, DEFAULT_INDEX_PARAMS.hnsw[name as keyof typeof HNSW_PARAM_RANGES]] as const),
  ])('shows the %s knob %s with its range and default', (index, name, [min, max], value) => {
    const row = new RegExp(`\\| \`${name}\` \\| ${index} \\|[^|]*\\| ([^|]+) \\| ([^|]+) \\|`).exec(section);
    expect(row, name).not.toBeNull();
    expect(row![1]!.trim().split(' ')[0]!.replace(/,/g, '')).toBe(`${min}..${max}`);
    expect(row![2]!.trim()).toBe(String(value));
  });

  it('shows the LSH knob planes with its values and default', () => {
    const row = /\| `planes` \| LSH \|[^|]*\| ([^|]+) \| ([^|]+) \|/.exec(section);
    expect(row).not.toBeNull();
    expect(row![1]!.trim()).toBe(LSH_PLANES.map((value) => `\`${value}\``).join(', '));
    expect(row![2]!.trim()).toBe(DEFAULT_INDEX_PARAMS.lsh.planes);
  });
});
