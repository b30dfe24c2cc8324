/**
 * A small hand-written SVG line/scatter chart: several named series of (x, y) points, optional log10
 * y axis, axis labels, tick labels and a legend. Enough for benchmark pictures, no dependency.
 */
export interface ChartSeries {
  name: string;
  points: { x: number; y: number; label?: string }[];
  /** Draw a line through the points (in the order given); otherwise markers only. Default true. */
  line?: boolean;
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  logY?: boolean;
  xDomain?: [number, number];
  width?: number;
  height?: number;
}

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#17becf'];
const MARKERS = ['circle', 'square', 'diamond', 'triangle'] as const;

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function marker(shape: (typeof MARKERS)[number], x: number, y: number, colour: string): string {
  const r = 4;
  switch (shape) {
    case 'circle':
      return `<circle cx="${x}" cy="${y}" r="${r}" fill="${colour}"/>`;
    case 'square':
      return `<rect x="${x - r}" y="${y - r}" width="${2 * r}" height="${2 * r}" fill="${colour}"/>`;
    case 'diamond':
      return `<path d="M${x} ${y - r - 1}L${x + r + 1} ${y}L${x} ${y + r + 1}L${x - r - 1} ${y}Z" fill="${colour}"/>`;
    case 'triangle':
      return `<path d="M${x} ${y - r - 1}L${x + r + 1} ${y + r}L${x - r - 1} ${y + r}Z" fill="${colour}"/>`;
  }
}

export function svgChart(series: ChartSeries[], options: ChartOptions): string {
  const width = options.width ?? 760;
  const height = options.height ?? 480;
  const margin = { left: 80, right: 200, top: 40, bottom: 60 };
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const all = series.flatMap((s) => s.points);
  const ys = all.map((p) => p.y).filter((y) => y > 0 || !options.logY);
  const xs = all.map((p) => p.x);
  const [x0, x1] = options.xDomain ?? [Math.min(...xs), Math.max(...xs)];
  const toY = options.logY ? Math.log10 : (v: number) => v;
  let y0 = toY(Math.min(...ys));
  let y1 = toY(Math.max(...ys));
  if (options.logY) {
    y0 = Math.floor(y0);
    y1 = Math.ceil(y1);
  }
  if (y1 === y0) y1 = y0 + 1;
  const px = (x: number) => margin.left + ((x - x0) / (x1 - x0 || 1)) * plotWidth;
  const py = (y: number) => margin.top + plotHeight - ((toY(y) - y0) / (y1 - y0)) * plotHeight;

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${margin.left + plotWidth / 2}" y="22" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(options.title)}</text>`,
  ];
  // Grid and ticks.
  const xTicks = 5;
  for (let i = 0; i <= xTicks; i++) {
    const value = x0 + ((x1 - x0) * i) / xTicks;
    const x = px(value);
    parts.push(`<line x1="${x}" y1="${margin.top}" x2="${x}" y2="${margin.top + plotHeight}" stroke="#eee"/>`);
    parts.push(`<text x="${x}" y="${margin.top + plotHeight + 18}" text-anchor="middle">${Number(value.toFixed(3))}</text>`);
  }
  const yTickValues: number[] = [];
  if (options.logY) {
    for (let e = y0; e <= y1; e++) yTickValues.push(10 ** e);
  } else {
    for (let i = 0; i <= 5; i++) yTickValues.push(y0 + ((y1 - y0) * i) / 5);
  }
  for (const value of yTickValues) {
    const y = py(value);
    parts.push(`<line x1="${margin.left}" y1="${y}" x2="${margin.left + plotWidth}" y2="${y}" stroke="#eee"/>`);
    parts.push(`<text x="${margin.left - 8}" y="${y + 4}" text-anchor="end">${value >= 1 ? value.toLocaleString('en-US', { maximumFractionDigits: 0 }) : Number(value.toPrecision(2))}</text>`);
  }
  parts.push(`<rect x="${margin.left}" y="${margin.top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${margin.left + plotWidth / 2}" y="${height - 16}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`);
  parts.push(
    `<text transform="translate(20 ${margin.top + plotHeight / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel)}</text>`,
  );
  // Series and legend.
  series.forEach((s, i) => {
    const colour = COLOURS[i % COLOURS.length]!;
    const shape = MARKERS[i % MARKERS.length]!;
    const points = s.points.filter((p) => !options.logY || p.y > 0);
    if ((s.line ?? true) && points.length > 1) {
      parts.push(`<polyline fill="none" stroke="${colour}" stroke-width="2" points="${points.map((p) => `${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`).join(' ')}"/>`);
    }
    for (const p of points) {
      parts.push(marker(shape, px(p.x), py(p.y), colour));
      if (p.label) parts.push(`<text x="${px(p.x) + 6}" y="${py(p.y) - 6}" font-size="10" fill="${colour}">${escapeXml(p.label)}</text>`);
    }
    const ly = margin.top + 10 + i * 20;
    const lx = margin.left + plotWidth + 16;
    parts.push(marker(shape, lx + 6, ly, colour));
    parts.push(`<text x="${lx + 18}" y="${ly + 4}">${escapeXml(s.name)}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

/** One horizontal bar made of named segments, left to right. */
export interface StackedBar {
  label: string;
  segments: { name: string; value: number }[];
}

export interface StackedBarOptions {
  title: string;
  xLabel: string;
  /** Fill colour per segment name (segments without one are grey). */
  colours: Record<string, string>;
  width?: number;
}

/** Horizontal stacked bars (e.g. per-stage time of a few configurations), a legend of the segment names. */
export function svgStackedBars(bars: StackedBar[], options: StackedBarOptions): string {
  const width = options.width ?? 760;
  const barHeight = 28;
  const gap = 18;
  const margin = { left: 170, right: 30, top: 40, bottom: 108 };
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = bars.length * (barHeight + gap);
  const height = margin.top + plotHeight + margin.bottom;
  const total = (bar: StackedBar) => bar.segments.reduce((sum, segment) => sum + segment.value, 0);
  const rawMax = Math.max(...bars.map(total), 1e-9);
  const step = 10 ** Math.floor(Math.log10(rawMax)) / (rawMax / 10 ** Math.floor(Math.log10(rawMax)) < 3 ? 2 : 1);
  const max = Math.ceil(rawMax / step) * step;
  const px = (value: number) => margin.left + (value / max) * plotWidth;

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${margin.left + plotWidth / 2}" y="22" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(options.title)}</text>`,
  ];
  for (let value = 0; value <= max + 1e-9; value += step) {
    const x = px(value);
    parts.push(`<line x1="${x}" y1="${margin.top - 6}" x2="${x}" y2="${margin.top + plotHeight}" stroke="#eee"/>`);
    parts.push(`<text x="${x}" y="${margin.top + plotHeight + 16}" text-anchor="middle">${Number(value.toFixed(3))}</text>`);
  }
  parts.push(`<text x="${margin.left + plotWidth / 2}" y="${margin.top + plotHeight + 36}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`);
  bars.forEach((bar, i) => {
    const y = margin.top + i * (barHeight + gap);
    parts.push(`<text x="${margin.left - 8}" y="${y + barHeight / 2 + 4}" text-anchor="end">${escapeXml(bar.label)}</text>`);
    let start = 0;
    for (const segment of bar.segments) {
      const x = px(start);
      const w = px(start + segment.value) - x;
      parts.push(`<rect x="${x.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${barHeight}" fill="${options.colours[segment.name] ?? '#999'}" stroke="white"/>`);
      start += segment.value;
    }
    parts.push(`<text x="${px(start) + 4}" y="${y + barHeight / 2 + 4}" font-size="11">${Number(start.toFixed(1))}</text>`);
  });
  const names = [...new Set(bars.flatMap((bar) => bar.segments.map((segment) => segment.name)))];
  names.forEach((name, i) => {
    const lx = margin.left + (i % 3) * (plotWidth / 3);
    const ly = margin.top + plotHeight + 54 + Math.floor(i / 3) * 18;
    parts.push(`<rect x="${lx}" y="${ly - 9}" width="12" height="12" fill="${options.colours[name] ?? '#999'}"/>`);
    parts.push(`<text x="${lx + 16}" y="${ly + 1}">${escapeXml(name)}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
