// The audit log: who changed what, when, before and after (newest first, paged).
import { useEffect, useState } from "react";
import { api } from "../api";
import { Failure, Loading, when } from "../ui";

interface Entry {
  id: number;
  at: string;
  actor: string;
  kind: string;
  target: string;
  before: unknown;
  after: unknown;
  detail: unknown;
}

function compact(value: unknown): string {
  return value === null || value === undefined ? "—" : JSON.stringify(value);
}

export function Audit() {
  const [items, setItems] = useState<Entry[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState("");
  const [loading, setLoading] = useState(true);
  const load = async (from: string | null) => {
    setLoading(true);
    setError("");
    try {
      const page = await api<{ items: Entry[]; next_cursor: string | null }>(
        "GET",
        `/api/admin/audit?limit=50${from ? `&cursor=${encodeURIComponent(from)}` : ""}`,
      );
      setItems((old) => (from ? [...old, ...page.items] : page.items));
      setCursor(page.next_cursor);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setLoading(false);
    }
  };
  useEffect(() => {
    void load(null);
  }, []);
  return (
    <section>
      <p>Every change made from this dashboard, newest first.</p>
      {error && <Failure message={error} retry={() => load(null)} />}
      {loading && items.length === 0 && <Loading what="the audit log" />}
      {!loading && !error && items.length === 0 && <p className="empty">Nothing has been changed yet.</p>}
      {items.length > 0 && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col">What</th>
                <th scope="col">Target</th>
                <th scope="col">Before</th>
                <th scope="col">After</th>
              </tr>
            </thead>
            <tbody>
              {items.map((e) => (
                <tr key={e.id}>
                  <td>{when(e.at)}</td>
                  <td>{e.actor}</td>
                  <td>{e.kind}</td>
                  <th scope="row">{e.target}</th>
                  <td className="mono">{compact(e.before)}</td>
                  <td className="mono">{compact(e.after)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {cursor && (
        <button type="button" onClick={() => load(cursor)} disabled={loading}>
          Show older changes
        </button>
      )}
    </section>
  );
}
