// Export everything Jeeves holds about me, or forget it all (after typing a confirmation).
import { useState } from "react";
import type { FormEvent } from "react";
import { api } from "../api";
import { Failure, Notice } from "../ui";

const CONFIRMATION = "forget everything";

export function MyData() {
  const [typed, setTyped] = useState("");
  const [note, setNote] = useState("");
  const [error, setError] = useState("");
  const forget = async (event: FormEvent) => {
    event.preventDefault();
    setError("");
    try {
      await api("POST", "/api/me/forget", { confirm: typed });
      setTyped("");
      setNote("Done: Jeeves has forgotten everything about you.");
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <section>
      <h2>Export</h2>
      <p>Download everything Jeeves holds about you — facts, connected services (never their tokens) and activity — as JSON.</p>
      <a className="button" href="/api/me/export" download="jeeves-export.json">
        Download my data (JSON)
      </a>
      <h2>Forget everything</h2>
      <p>
        This deletes your facts, connections and activity for good. Type <strong>{CONFIRMATION}</strong> to confirm.
      </p>
      {note && <Notice>{note}</Notice>}
      <form onSubmit={forget} className="stack">
        <label htmlFor="confirm-forget">Confirmation</label>
        <input id="confirm-forget" value={typed} onChange={(e) => setTyped(e.target.value)} autoComplete="off" />
        {error && <Failure message={error} />}
        <button type="submit" className="danger" disabled={typed !== CONFIRMATION}>
          Forget everything about me
        </button>
      </form>
    </section>
  );
}
