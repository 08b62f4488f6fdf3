/**
 * The fan-out benchmark's report: JSON (every sample), a Markdown table and an SVG chart,
 * written to docs/bench/ by `pnpm bench fanout --report`, with the machine described.
 */
import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';

export interface SubjectResult {
  readonly subject: string;
  /** Median over rounds of server CPU µs per delivery, and every round's figure. */
  readonly cpuUsPerDelivery: number;
  readonly runs: readonly number[];
  /** Median, lowest and highest over rounds of this subject's CPU over the baseline's in that round. */
  readonly ratio: { readonly median: number; readonly min: number; readonly max: number };
  /** Growth of the server's RSS per subscribed connection; null where it means nothing. */
  readonly rssKbPerConnection: number | null;
}

export interface SizeResult {
  readonly subscribers: number;
  readonly messages: number;
  readonly subjects: readonly SubjectResult[];
}

export interface FanoutReport {
  readonly machine: Record<string, string | number>;
  readonly rounds: number;
  readonly baseline: string;
  readonly sizes: readonly SizeResult[];
}

export function machine(pinned: boolean): Record<string, string | number> {
  const commit = (() => {
    try {
      return execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim();
    } catch {
      return 'unknown';
    }
  })();
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    pinning: pinned ? 'each server on core 0 (taskset), the load generator on core 1' : 'none (no taskset)',
    commit,
    date: new Date().toISOString().slice(0, 10),
  };
}

const fmt = (x: number, digits = 2) => x.toFixed(digits);

export function markdown(report: FanoutReport): string {
  const lines = [
    '# Fan-out: server CPU per delivery',
    '',
    `One room, every subscriber a separate WebSocket; ${report.rounds} rounds, subjects interleaved, medians. ` +
      `Ratios are per round against **${report.baseline}**, then the median (lowest–highest).`,
    '',
    `Machine: ${Object.entries(report.machine)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}.`,
    '',
  ];
  for (const size of report.sizes) {
    lines.push(`## N = ${size.subscribers} (${size.messages} messages)`, '');
    lines.push('| server | µs CPU per delivery | × baseline (range) | rounds | RSS KB per connection |');
    lines.push('|---|---:|---:|---|---:|');
    for (const s of size.subjects) {
      lines.push(
        `| ${s.subject} | ${fmt(s.cpuUsPerDelivery)} | ×${fmt(s.ratio.median)} (${fmt(s.ratio.min)}–${fmt(s.ratio.max)}) | ` +
          `${s.runs.map((r) => fmt(r, 1)).join(' / ')} | ${s.rssKbPerConnection === null ? '—' : fmt(s.rssKbPerConnection, 1)} |`,
      );
    }
    lines.push('');
  }
  return lines.join('\n');
}

const COLORS = ['#4e79a7', '#a0cbe8', '#f28e2b', '#e15759', '#59a14f', '#8cd17d', '#b07aa1', '#9c755f'];

/** A grouped bar chart: one group per N, one bar per server, µs CPU per delivery. */
export function svg(report: FanoutReport): string {
  const names = report.sizes[0]?.subjects.map((s) => s.subject) ?? [];
  const max = Math.max(1, ...report.sizes.flatMap((z) => z.subjects.map((s) => s.cpuUsPerDelivery)));
  const bar = 22;
  const gap = 36;
  const left = 56;
  const top = 30;
  const height = 260;
  const groupWidth = names.length * bar + gap;
  const width = left + report.sizes.length * groupWidth + 20;
  const legendTop = top + height + 40;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${legendTop + names.length * 18 + 10}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="${left}" y="18" font-size="14" font-weight="bold">Server CPU µs per delivery (lower is better)</text>`,
  ];
  for (let t = 0; t <= 4; t++) {
    const v = (max * t) / 4;
    const y = top + height - (height * t) / 4;
    parts.push(`<line x1="${left}" x2="${width - 10}" y1="${y}" y2="${y}" stroke="#ddd"/>`);
    parts.push(`<text x="${left - 6}" y="${y + 4}" text-anchor="end">${fmt(v, 0)}</text>`);
  }
  report.sizes.forEach((size, g) => {
    const x0 = left + gap / 2 + g * groupWidth;
    size.subjects.forEach((s, i) => {
      const h = (height * s.cpuUsPerDelivery) / max;
      const x = x0 + i * bar;
      parts.push(
        `<rect x="${x}" y="${top + height - h}" width="${bar - 3}" height="${h}" fill="${COLORS[i % COLORS.length]}">` +
          `<title>${s.subject}, N=${size.subscribers}: ${fmt(s.cpuUsPerDelivery)} µs</title></rect>`,
      );
      parts.push(
        `<text x="${x + (bar - 3) / 2}" y="${top + height - h - 3}" text-anchor="middle" font-size="9">${fmt(s.cpuUsPerDelivery, 1)}</text>`,
      );
    });
    parts.push(
      `<text x="${x0 + (names.length * bar) / 2}" y="${top + height + 18}" text-anchor="middle">N = ${size.subscribers}</text>`,
    );
  });
  names.forEach((name, i) => {
    const y = legendTop + i * 18;
    parts.push(`<rect x="${left}" y="${y - 10}" width="12" height="12" fill="${COLORS[i % COLORS.length]}"/>`);
    parts.push(`<text x="${left + 18}" y="${y}">${name.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

export function writeReport(dir: string, report: FanoutReport): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'fanout.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(dir, 'fanout.md'), `${markdown(report)}\n`);
  writeFileSync(join(dir, 'fanout.svg'), `${svg(report)}\n`);
}
