// report.html: a self-contained page (no scripts, no external assets) with the run's
// tables and the ring-occupancy series drawn as inline SVG. Cold path; plain code.
import type { Scenario } from "../scenario/types.js";
import type { PathRecord, SeriesResult } from "./record.js";

interface ReportSummary {
  scenario: { name: string; file: string; seed: number };
  input: { capture: string | null; packets: number; skipped: Record<string, number> };
  outcomes: Record<string, number>;
  reasons: Record<string, number>;
  verdicts: Record<string, number>;
  counters: Record<string, Record<string, number>>;
  xdpStatistics: Array<Record<string, string | number>>;
  endNs: number;
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function table(head: string[], rows: Array<Array<string | number>>): string {
  if (rows.length === 0) return "<p class=empty>none</p>";
  const th = head.map((h) => `<th>${esc(h)}</th>`).join("");
  const tr = rows.map((r) => "<tr>" + r.map((c) => (typeof c === "number" ? `<td class=n>${c}</td>` : `<td>${esc(c)}</td>`)).join("") + "</tr>").join("\n");
  return `<table><thead><tr>${th}</tr></thead><tbody>\n${tr}\n</tbody></table>`;
}

function fmtMs(ns: number): string {
  return (ns / 1e6).toFixed(3) + " ms";
}

/**
 * The points to draw for one series of a sparse sample list (series.json keeps only
 * intervals in which something happened or changed, each with its explicit t): across a
 * gap a level holds its last value until the interval before the next sample, and a
 * per-interval count is 0 in every skipped interval.
 */
export function gapPoints(t: number[], values: number[], intervalNs: number, count: boolean): Array<[number, number]> {
  const pts: Array<[number, number]> = [];
  for (let i = 0; i < t.length; i++) {
    const ti = t[i]!;
    if (i > 0 && ti - t[i - 1]! > intervalNs) {
      const prev = t[i - 1]!;
      if (count) {
        pts.push([prev + intervalNs, 0]);
        if (ti - intervalNs > prev + intervalNs) pts.push([ti - intervalNs, 0]);
      } else pts.push([ti - intervalNs, values[i - 1]!]);
    }
    pts.push([ti, values[i]!]);
  }
  return pts;
}

/** One SVG line chart: several series over the same time axis (x from t), y from 0 to max. */
function chart(title: string, t: number[], intervalNs: number, series: Array<{ name: string; values: number[]; capacity?: number; count?: boolean }>): string {
  const W = 640, H = 160, L = 48, B = 22, T = 18;
  const n = t.length;
  let ymax = 1;
  for (const s of series) {
    for (const v of s.values) if (v > ymax) ymax = v;
    if (s.capacity !== undefined && s.capacity > ymax) ymax = s.capacity;
  }
  const colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"];
  const t0 = n > 0 ? t[0]! : 0;
  const span = n > 1 ? t[n - 1]! - t0 : 0;
  const x = (tn: number) => L + (span <= 0 ? 0 : ((W - L - 8) * (tn - t0)) / span);
  const y = (v: number) => T + (H - T - B) * (1 - v / ymax);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">`);
  parts.push(`<text x="${L}" y="12" font-size="12">${esc(title)}</text>`);
  parts.push(`<line x1="${L}" y1="${y(0)}" x2="${W - 8}" y2="${y(0)}" stroke="#888"/><line x1="${L}" y1="${T}" x2="${L}" y2="${y(0)}" stroke="#888"/>`);
  parts.push(`<text x="${L - 4}" y="${T + 4}" font-size="10" text-anchor="end">${ymax}</text><text x="${L - 4}" y="${y(0)}" font-size="10" text-anchor="end">0</text>`);
  if (n > 0) {
    parts.push(`<text x="${L}" y="${H - 6}" font-size="10">${fmtMs(t[0]!)}</text><text x="${W - 8}" y="${H - 6}" font-size="10" text-anchor="end">${fmtMs(t[n - 1]!)}</text>`);
  }
  series.forEach((s, k) => {
    const c = colors[k % colors.length]!;
    if (s.capacity !== undefined) parts.push(`<line x1="${L}" y1="${y(s.capacity)}" x2="${W - 8}" y2="${y(s.capacity)}" stroke="${c}" stroke-dasharray="3 3" opacity="0.5"/>`);
    const pts = gapPoints(t, s.values, intervalNs, s.count === true).map(([tn, v]) => `${x(tn).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
    if (n > 0) parts.push(`<polyline fill="none" stroke="${c}" stroke-width="1.5" points="${pts}"/>`);
    parts.push(`<text x="${L + 8 + k * 110}" y="${T + 10}" font-size="10" fill="${c}">${esc(s.name)}</text>`);
  });
  parts.push("</svg>");
  return parts.join("");
}

export function renderReport(scn: Scenario, s: ReportSummary, series: SeriesResult, records: PathRecord[] | null): string {
  const out: string[] = [];
  out.push(`<!doctype html><html><head><meta charset="utf-8"><title>xdplab: ${esc(s.scenario.name)}</title>`);
  out.push(`<style>body{font:14px system-ui,sans-serif;margin:24px;max-width:1100px}table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #ccc;padding:2px 8px}td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f3f3f3}h2{margin-top:28px}.empty{color:#888}</style></head><body>`);
  out.push(`<h1>${esc(s.scenario.name)}</h1>`);
  if (scn.description) out.push(`<p>${esc(scn.description)}</p>`);
  out.push(`<p>scenario <code>${esc(s.scenario.file)}</code>, seed ${s.scenario.seed}, input ${s.input.packets} packets${s.input.capture ? ` from <code>${esc(s.input.capture)}</code>` : ""}, run ended at ${fmtMs(s.endNs)} (virtual time).</p>`);
  out.push("<h2>Outcomes</h2>" + table(["outcome", "packets"], Object.entries(s.outcomes)));
  out.push("<h2>Reasons</h2>" + table(["reason", "packets"], Object.entries(s.reasons)));
  out.push("<h2>Shim verdicts</h2>" + table(["verdict", "packets"], Object.entries(s.verdicts)));
  const xs = s.xdpStatistics;
  if (xs.length) {
    const keys = Object.keys(xs[0]!);
    out.push("<h2>XDP_STATISTICS per socket</h2>" + table(keys, xs.map((r) => keys.map((k) => r[k] ?? ""))));
  }
  out.push("<h2>Counters per stage</h2>");
  const crow: Array<Array<string | number>> = [];
  for (const [stage, c] of Object.entries(s.counters)) for (const [k, v] of Object.entries(c)) crow.push([stage, k, v]);
  out.push(table(["stage", "counter", "value"], crow));
  if (Object.keys(s.input.skipped).length) out.push("<h2>Input packets skipped</h2>" + table(["cause", "packets"], Object.entries(s.input.skipped)));

  out.push(`<h2>Ring occupancy (sampled every ${fmtMs(series.intervalNs)}; intervals in which nothing happened or changed are not stored)</h2>`);
  const iv = series.intervalNs;
  const d = scn.dataplane;
  for (const b of series.bindings) {
    out.push(`<h3>${esc(b.iface)} queue ${b.queue}</h3>`);
    out.push(chart(`fill ring (size ${d.rings.fill})`, series.t, iv, [{ name: "fill", values: b.fill, capacity: d.rings.fill }]));
    out.push(chart(`RX / TX / completion rings`, series.t, iv, [
      { name: "rx", values: b.rx, capacity: d.rings.rx },
      { name: "tx", values: b.tx },
      { name: "comp", values: b.comp },
    ]));
  }
  out.push(chart(`worker queues (maxPendingTx ${d.maxPendingTx})`, series.t, iv, [
    { name: "pending_tx_local", values: series.pendingTxLocal },
    { name: "pending_tx_prepared", values: series.pendingTxPrepared },
    { name: "pending_fill", values: series.pendingFill },
  ]));
  out.push(chart("packets per interval", series.t, iv, [
    { name: "rx", values: series.rxPerInterval, count: true },
    { name: "forwarded", values: series.forwardedPerInterval, count: true },
    { name: "dropped", values: series.droppedPerInterval, count: true },
  ]));

  if (records) {
    const notFwd = records.filter((r) => r.out !== "forwarded");
    out.push(`<h2>Packets not forwarded (${notFwd.length}${notFwd.length > 500 ? ", first 500" : ""})</h2>`);
    out.push(table(["id", "i", "t (ns)", "in", "shim", "outcome", "reason"], notFwd.slice(0, 500).map((r) => [r.id, r.i ?? "", r.t, `${r.in.iface}:${r.in.queue}`, r.shim.verdict, r.out, r.reason ?? ""])));
  }
  out.push("</body></html>\n");
  return out.join("\n");
}
