// My facts: view, add, edit and delete what Jeeves remembers about me.
import { useState } from "react";
import type { FormEvent } from "react";
import { api } from "../api";
import { useApi } from "../hooks";
import { Failure, Loading, Notice, when } from "../ui";

interface Fact {
  key: string;
  value: string;
  updated_at: string;
}

function Row({ fact, changed }: { fact: Fact; changed: (note: string) => void }) {
  const [mode, setMode] = useState<"view" | "edit" | "confirm">("view");
  const [value, setValue] = useState(fact.value);
  const [error, setError] = useState("");
  const save = async (event: FormEvent) => {
    event.preventDefault();
    try {
      await api("PUT", `/api/me/facts/${encodeURIComponent(fact.key)}`, { value });
      setMode("view");
      changed(`Saved ${fact.key}.`);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const remove = async () => {
    try {
      await api("DELETE", `/api/me/facts/${encodeURIComponent(fact.key)}`);
      changed(`Deleted ${fact.key}.`);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <tr>
      <th scope="row">{fact.key}</th>
      <td>
        {mode === "edit" ? (
          <form onSubmit={save} className="inline">
            <label className="sr-only" htmlFor={`value-${fact.key}`}>
              New value for {fact.key}
            </label>
            <input id={`value-${fact.key}`} value={value} onChange={(e) => setValue(e.target.value)} autoFocus />
            <button type="submit">Save</button>
            <button type="button" className="secondary" onClick={() => setMode("view")}>
              Cancel
            </button>
          </form>
        ) : (
          fact.value
        )}
        {error && <span role="alert" className="error-text"> {error}</span>}
      </td>
      <td className="hide-phone">{when(fact.updated_at)}</td>
      <td className="actions-cell">
        {mode === "view" && (
          <>
            <button type="button" onClick={() => setMode("edit")} aria-label={`Edit ${fact.key}`}>
              Edit
            </button>
            <button type="button" className="danger" onClick={() => setMode("confirm")} aria-label={`Delete ${fact.key}`}>
              Delete
            </button>
          </>
        )}
        {mode === "confirm" && (
          <span role="group" aria-label={`Confirm deleting ${fact.key}`}>
            Delete {fact.key}?{" "}
            <button type="button" className="danger" onClick={remove}>
              Yes, delete
            </button>
            <button type="button" className="secondary" onClick={() => setMode("view")}>
              Keep it
            </button>
          </span>
        )}
      </td>
    </tr>
  );
}

export function Facts() {
  const { data, error, loading, reload } = useApi<{ facts: Fact[] }>("/api/me/facts");
  const [note, setNote] = useState("");
  const [key, setKey] = useState("");
  const [value, setValue] = useState("");
  const [addError, setAddError] = useState("");
  const changed = (message: string) => {
    setNote(message);
    reload();
  };
  const add = async (event: FormEvent) => {
    event.preventDefault();
    setAddError("");
    try {
      await api("PUT", `/api/me/facts/${encodeURIComponent(key.trim())}`, { value });
      setKey("");
      setValue("");
      changed(`Saved ${key.trim()}.`);
    } catch (e) {
      setAddError((e as Error).message);
    }
  };
  return (
    <section>
      <p>What Jeeves remembers about you (say “remember my location is Porto” in Slack, or add it here).</p>
      {note && <Notice>{note}</Notice>}
      {loading && !data && <Loading what="your facts" />}
      {error && <Failure message={error} retry={reload} />}
      {data && data.facts.length === 0 && <p className="empty">Jeeves knows no facts about you.</p>}
      {data && data.facts.length > 0 && (
        <div className="table-wrap">
          <table>
            <caption className="sr-only">Your facts</caption>
            <thead>
              <tr>
                <th scope="col">Fact</th>
                <th scope="col">Value</th>
                <th scope="col" className="hide-phone">
                  Changed
                </th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {data.facts.map((fact) => (
                <Row key={`${fact.key}:${fact.value}`} fact={fact} changed={changed} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h2>Add a fact</h2>
      <form onSubmit={add} className="stack">
        <label htmlFor="new-key">Name (e.g. location, timezone, units)</label>
        <input id="new-key" value={key} onChange={(e) => setKey(e.target.value)} required pattern="[a-z][a-z0-9_]*" />
        <label htmlFor="new-value">Value</label>
        <input id="new-value" value={value} onChange={(e) => setValue(e.target.value)} required />
        {addError && <Failure message={addError} />}
        <button type="submit">Add fact</button>
      </form>
    </section>
  );
}
