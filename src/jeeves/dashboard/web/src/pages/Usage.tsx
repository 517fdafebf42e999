// Usage: calls per day (a bar chart with a table behind it), per action and per channel.
import { useState } from "react";
import { useApi } from "../hooks";
import { Failure, Loading } from "../ui";

interface Report {
  from: string;
  to: string;
  totals: { calls: number; failed: number; error_rate: number; active_users: number };
  per_action_per_day: { day: string; action: string; calls: number; failed: number; p95_latency_ms: number }[];
  active_users_per_day: { day: string; users: number }[];
  per_channel: { channel: string; calls: number; failed: number }[];
}

function sum<T>(rows: T[], key: (row: T) => string, value: (row: T) => number): [string, number][] {
  const totals = new Map<string, number>();
  for (const row of rows) totals.set(key(row), (totals.get(key(row)) ?? 0) + value(row));
  return [...totals.entries()];
}

function BarChart({ title, points }: { title: string; points: [string, number][] }) {
  const max = Math.max(1, ...points.map(([, v]) => v));
  const width = 640;
  const height = 200;
  const bar = points.length ? width / points.length : width;
  return (
    <figure className="chart">
      <svg display={points.length === 0 ? "none" : undefined} viewBox={`0 0 ${width} ${height + 24}`} role="img" aria-labelledby="chart-title chart-desc">
        <title id="chart-title">{title}</title>
        <desc id="chart-desc">{points.map(([k, v]) => `${k}: ${v}`).join(", ") || "no calls"}</desc>
        {points.map(([label, value], i) => {
          const h = (value / max) * height;
          return (
            <g key={label}>
              <rect x={i * bar + 4} y={height - h} width={Math.max(2, bar - 8)} height={h} className="bar" />
              {points.length <= 14 && (
                <text x={i * bar + bar / 2} y={height + 16} textAnchor="middle" className="axis">
                  {label.slice(5)}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      {points.length === 0 && <p className="empty">No messages in this period.</p>}
      <figcaption>{title}</figcaption>
    </figure>
  );
}

function Breakdown({ caption, rows }: { caption: string; rows: [string, number, number][] }) {
  const max = Math.max(1, ...rows.map(([, calls]) => calls));
  return (
    <div className="table-wrap">
      <table>
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Calls</th>
            <th scope="col">Failed</th>
            <th scope="col" aria-hidden="true"></th>
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 && (
            <tr>
              <td colSpan={4}>No calls in this period.</td>
            </tr>
          )}
          {rows.map(([name, calls, failed]) => (
            <tr key={name}>
              <th scope="row">{name || "(unknown)"}</th>
              <td>{calls}</td>
              <td>{failed}</td>
              <td aria-hidden="true" className="meter-cell">
                <span className="meter" style={{ width: `${(calls / max) * 100}%` }} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function Usage() {
  const [days, setDays] = useState(14);
  const to = new Date();
  const from = new Date(to.getTime() - (days - 1) * 86400000);
  const iso = (d: Date) => d.toISOString().slice(0, 10);
  const { data, error, loading, reload } = useApi<Report>(`/api/admin/usage?from=${iso(from)}&to=${iso(to)}`);
  const perDay = data ? sum(data.per_action_per_day, (r) => r.day, (r) => r.calls).sort() : [];
  const perAction = data
    ? sum(data.per_action_per_day, (r) => r.action, (r) => r.calls).map(([name, calls]): [string, number, number] => [
        name,
        calls,
        data.per_action_per_day.filter((r) => r.action === name).reduce((n, r) => n + r.failed, 0),
      ])
    : [];
  return (
    <section>
      <label htmlFor="days">Period</label>{" "}
      <select id="days" value={days} onChange={(e) => setDays(Number(e.target.value))}>
        <option value={7}>last 7 days</option>
        <option value={14}>last 14 days</option>
        <option value={30}>last 30 days</option>
        <option value={90}>last 90 days</option>
      </select>
      {loading && !data && <Loading what="usage statistics" />}
      {error && <Failure message={error} retry={reload} />}
      {data && (
        <>
          <dl className="totals">
            <div>
              <dt>Calls</dt>
              <dd>{data.totals.calls}</dd>
            </div>
            <div>
              <dt>Failed</dt>
              <dd>{data.totals.failed}</dd>
            </div>
            <div>
              <dt>Error rate</dt>
              <dd>{(data.totals.error_rate * 100).toFixed(1)}%</dd>
            </div>
            <div>
              <dt>Active users</dt>
              <dd>{data.totals.active_users}</dd>
            </div>
          </dl>
          <BarChart title={`Messages per day, ${data.from} to ${data.to}`} points={perDay} />
          <Breakdown caption="Per action" rows={perAction} />
          <Breakdown caption="Per channel" rows={data.per_channel.map((c) => [c.channel, c.calls, c.failed])} />
        </>
      )}
    </section>
  );
}
