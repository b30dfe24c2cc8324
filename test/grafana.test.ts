/**
 * config/grafana/findthis.json: every panel query is valid PromQL (promtool checks a rules file made
 * of them, Grafana's variables substituted) and names only series the service exports or the
 * recording rules in config/findthis.rules.yml produce.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../src/models/manifest.js';
import { ServiceMetrics } from '../src/service/metrics.js';
import { debianTool } from './support/debian-tools.js';

interface Panel {
  type: string;
  title: string;
  datasource?: { uid: string };
  targets?: Array<{ expr: string; datasource?: { uid: string } }>;
}

const dashboard = JSON.parse(readFileSync(join(PROJECT_ROOT, 'config', 'grafana', 'findthis.json'), 'utf8')) as {
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query: unknown }> };
};
const panels = dashboard.panels.filter((panel) => panel.type !== 'row');
const queries = panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr })));
const promtool = debianTool('promtool', 'prometheus');

/** Grafana's variables, replaced by values PromQL accepts in their places. */
function substituted(expr: string): string {
  const values: Record<string, string> = { __rate_interval: '5m', __interval: '1m', __range: '1h', job: 'findthis', route: '.*' };
  return expr.replace(/\$\{?(\w+)\}?/g, (_all, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`unknown dashboard variable $${name} in ${expr}`);
    return value;
  });
}

/** Series names a query reads: identifiers before `{` or `[`, and recording-rule names (with colons). */
function seriesNames(expr: string): string[] {
  const withoutStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  const selectors = [...withoutStrings.matchAll(/([A-Za-z_:][\w:]*)\s*[{[]/g)].map((match) => match[1] as string);
  const rules = [...withoutStrings.matchAll(/[A-Za-z_][\w]*:[\w:]+/g)].map((match) => match[0]);
  return [...new Set([...selectors, ...rules])];
}

async function exportedSeries(): Promise<Set<string>> {
  const registry = new Registry();
  new ServiceMetrics(registry);
  const names = new Set<string>();
  for (const metric of await registry.getMetricsAsJSON()) {
    names.add(metric.name);
    if (String(metric.type) === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${metric.name}${suffix}`);
  }
  const rules = readFileSync(join(PROJECT_ROOT, 'config', 'findthis.rules.yml'), 'utf8');
  for (const match of rules.matchAll(/^\s*- record: (\S+)$/gm)) names.add(match[1] as string);
  return names;
}

describe('the Grafana dashboard', () => {
  it('has at least 8 panels, all on the datasource variable', () => {
    expect(panels.length).toBeGreaterThanOrEqual(8);
    const datasource = dashboard.templating.list.find((variable) => variable.name === 'datasource');
    expect(datasource).toMatchObject({ type: 'datasource', query: 'prometheus' });
    for (const panel of panels) {
      expect(panel.datasource?.uid, panel.title).toBe('${datasource}');
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) expect(target.datasource?.uid, panel.title).toBe('${datasource}');
    }
  });

  it('covers what an operator needs', () => {
    const all = queries.map((query) => query.expr).join('\n');
    for (const needed of [
      'job_route:findthis_http_requests:rate5m',
      'status=~"5.."',
      'histogram_quantile(0.99',
      'job_stage:findthis_stage_duration_seconds:p95_5m',
      'job_index:findthis_search_duration_seconds:p95_5m',
      'findthis_queue_depth',
      'findthis_queue_rejections_total',
      'job:findthis_lsh_fallbacks:ratio_rate5m',
      'findthis_catalog_products',
      'findthis_catalog_vectors',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_p99_seconds',
    ]) {
      expect(all).toContain(needed);
    }
  });

  it('reads only series the service exports or the recording rules make', async () => {
    const known = await exportedSeries();
    expect(known.has('findthis_http_request_duration_seconds_bucket')).toBe(true);
    for (const { panel, expr } of queries) {
      const names = seriesNames(expr);
      expect(names.length, expr).toBeGreaterThan(0);
      for (const name of names) expect(known.has(name), `${panel}: ${name}`).toBe(true);
    }
  });

  promtool.it('has panel queries promtool accepts as PromQL', () => {
    const dir = mkdtempSync(join(tmpdir(), 'findthis-grafana-'));
    try {
      const file = join(dir, 'panels.rules.yml');
      const rules = queries.map((query, n) => `      - record: dashboard:panel_query_${n}:expr\n        expr: ${JSON.stringify(substituted(query.expr))}`);
      writeFileSync(file, `groups:\n  - name: dashboard\n    rules:\n${rules.join('\n')}\n`);
      const check = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
      expect(check.status, check.stdout + check.stderr).toBe(0);
      expect(check.stdout).toContain(`SUCCESS: ${queries.length} rules found`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
