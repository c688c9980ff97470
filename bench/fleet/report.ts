/** The fleet results as a markdown table and an SVG chart, written beside each other. */
import fs from 'node:fs';
import path from 'node:path';
import type { FleetFigure } from './measure';

export interface RunInfo {
  startedAt: string;
  signs: number;
  stops: number;
  host: string;
  loadAverage: number[];
  notes: string[];
}

function format(value: number, unit: string): string {
  if (!Number.isFinite(value)) return '—';
  if (unit === 'ms' && value >= 10_000) return `${(value / 1000).toFixed(1)} s`;
  if (unit === 'ms') return `${value.toFixed(0)} ms`;
  return `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} ${unit}`;
}

export function markdownTable(figures: readonly FleetFigure[], info: RunInfo): string {
  const lines = [
    `# Fleet benchmark, ${info.startedAt}`,
    '',
    `${info.signs} signs on ${info.stops} stops; ${info.host}; load average at start ` +
      `${info.loadAverage.map((l) => l.toFixed(1)).join(' / ')}.`,
    '',
    '| scenario | mode | figure | value | floor (same run) | ratio |',
    '| --- | --- | --- | ---: | --- | ---: |',
  ];
  for (const f of figures) {
    const floor = f.floor ? `${f.floor.name}: ${format(f.floor.value, f.unit)}` : '';
    const ratio =
      f.floor && Number.isFinite(f.value) && f.floor.value > 0
        ? `${(f.value / f.floor.value).toFixed(2)}x`
        : '';
    const value = `${format(f.value, f.unit)}${f.note ? ` (${f.note})` : ''}`;
    lines.push(`| ${f.scenario} | ${f.mode} | ${f.name} | ${value} | ${floor} | ${ratio} |`);
  }
  if (info.notes.length > 0) lines.push('', ...info.notes.map((n) => `- ${n}`));
  return `${lines.join('\n')}\n`;
}

const escape = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Horizontal bars, one group per unit with its own scale; the floor is the thin grey bar. */
export function svgChart(figures: readonly FleetFigure[], title: string): string {
  const rowHeight = 26;
  const labelWidth = 470;
  const barWidth = 420;
  const groups = new Map<string, FleetFigure[]>();
  for (const f of figures) {
    if (!Number.isFinite(f.value)) continue;
    const list = groups.get(f.unit) ?? [];
    list.push(f);
    groups.set(f.unit, list);
  }
  const parts: string[] = [];
  let y = 40;
  for (const [unit, list] of groups) {
    const max = Math.max(...list.map((f) => Math.max(f.value, f.floor?.value ?? 0)), 1);
    parts.push(
      `<text x="10" y="${y}" font-weight="bold">${escape(unit === 'ms' ? 'time' : unit)}</text>`,
    );
    y += 10;
    for (const f of list) {
      const w = (f.value / max) * barWidth;
      const colour = f.mode === 'embedded' ? '#3b7dd8' : '#d8843b';
      parts.push(
        `<text x="10" y="${y + 15}" font-size="11">${escape(`${f.scenario}: ${f.name} (${f.mode})`)}</text>`,
        `<rect x="${labelWidth}" y="${y + 3}" width="${w.toFixed(1)}" height="14" fill="${colour}"/>`,
        `<text x="${labelWidth + w + 4}" y="${y + 15}" font-size="11">${escape(format(f.value, f.unit))}</text>`,
      );
      if (f.floor && Number.isFinite(f.floor.value)) {
        const fw = (f.floor.value / max) * barWidth;
        parts.push(
          `<rect x="${labelWidth}" y="${y + 18}" width="${fw.toFixed(1)}" height="4" fill="#888"/>`,
        );
      }
      y += rowHeight;
    }
    y += 14;
  }
  const width = labelWidth + barWidth + 120;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y + 10}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">${escape(title)}</text>`,
    `<text x="${labelWidth}" y="20" font-size="11">blue: embedded, orange: external, grey: floor</text>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

export function writeResults(
  dir: string,
  figures: readonly FleetFigure[],
  info: RunInfo,
): { markdown: string; svg: string } {
  fs.mkdirSync(dir, { recursive: true });
  const markdown = path.join(dir, 'results.md');
  const svg = path.join(dir, 'chart.svg');
  fs.writeFileSync(markdown, markdownTable(figures, info));
  fs.writeFileSync(
    svg,
    svgChart(figures, `stopsign fleet, ${info.signs} signs, ${info.startedAt}`),
  );
  fs.writeFileSync(
    path.join(dir, 'results.json'),
    `${JSON.stringify({ info, figures }, null, 2)}\n`,
  );
  return { markdown, svg };
}
