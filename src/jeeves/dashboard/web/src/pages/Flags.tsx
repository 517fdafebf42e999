// Feature flags: toggle, rollout percent and allow-list, written to etcd (live in a second).
import { useState } from "react";
import type { FormEvent } from "react";
import { api } from "../api";
import { useApi } from "../hooks";
import { Failure, Loading, Notice } from "../ui";

interface Flag {
  name: string;
  enabled?: boolean;
  percent?: number;
  allow?: string[];
  error?: string;
}

interface Saved {
  audited: boolean;
}

function ids(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

function FlagRow({ flag, saved }: { flag: Flag; saved: (note: string) => void }) {
  const [percent, setPercent] = useState(String(flag.percent ?? 100));
  const [allow, setAllow] = useState((flag.allow ?? []).join(", "));
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const write = async (enabled: boolean) => {
    setBusy(true);
    setError("");
    try {
      const answer = await api<Saved>("PUT", `/api/admin/flags/${encodeURIComponent(flag.name)}`, {
        enabled,
        percent: Number(percent),
        allow: ids(allow),
      });
      saved(`Saved ${flag.name}: ${enabled ? "on" : "off"}, ${percent}%${answer.audited ? "" : " (the audit log could not record it)"}.`);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void write(Boolean(flag.enabled));
  };
  if (flag.error) {
    return (
      <li className="card">
        <h2>{flag.name}</h2>
        <p className="error-text">Invalid value in etcd: {flag.error}</p>
      </li>
    );
  }
  const id = `flag-${flag.name}`;
  return (
    <li className="card">
      <h2 id={`${id}-title`}>{flag.name}</h2>
      <form onSubmit={submit} aria-labelledby={`${id}-title`} className="flag-form">
        <div className="switch">
          <input
            type="checkbox"
            role="switch"
            id={`${id}-enabled`}
            checked={Boolean(flag.enabled)}
            disabled={busy}
            onChange={(e) => void write(e.target.checked)}
          />
          <label htmlFor={`${id}-enabled`}>Enabled</label>
        </div>
        <label htmlFor={`${id}-percent`}>Rollout percent</label>
        <input
          id={`${id}-percent`}
          type="number"
          min={0}
          max={100}
          step="any"
          value={percent}
          onChange={(e) => setPercent(e.target.value)}
        />
        <label htmlFor={`${id}-allow`}>Always on for (Slack user ids)</label>
        <input id={`${id}-allow`} value={allow} onChange={(e) => setAllow(e.target.value)} placeholder="U0ALICE, U0BOB" />
        <button type="submit" disabled={busy}>
          Save {flag.name}
        </button>
        {error && <p role="alert" className="error-text">{error}</p>}
      </form>
    </li>
  );
}

export function Flags() {
  const { data, error, loading, reload } = useApi<{ flags: Flag[] }>("/api/admin/flags");
  const [note, setNote] = useState("");
  const [name, setName] = useState("");
  const [createError, setCreateError] = useState("");
  const saved = (message: string) => {
    setNote(message);
    reload();
  };
  const create = async (event: FormEvent) => {
    event.preventDefault();
    setCreateError("");
    try {
      await api("PUT", `/api/admin/flags/${encodeURIComponent(name.trim())}`, { enabled: false, percent: 100, allow: [] });
      setName("");
      saved(`Created ${name.trim()} (off).`);
    } catch (e) {
      setCreateError((e as Error).message);
    }
  };
  return (
    <section>
      <p>Flags live in etcd; every service applies a change within a second. A user outside the rollout percent gets the flag only when listed.</p>
      {note && <Notice>{note}</Notice>}
      {loading && !data && <Loading what="feature flags" />}
      {error && <Failure message={error} retry={reload} />}
      {data && data.flags.length === 0 && <p className="empty">No flags are set.</p>}
      {data && (
        <ul className="cards">
          {data.flags.map((flag) => (
            <FlagRow key={JSON.stringify(flag)} flag={flag} saved={saved} />
          ))}
        </ul>
      )}
      <h2>New flag</h2>
      <form onSubmit={create} className="stack">
        <label htmlFor="new-flag">Flag name</label>
        <input id="new-flag" value={name} onChange={(e) => setName(e.target.value)} required />
        {createError && <Failure message={createError} />}
        <button type="submit">Create flag</button>
      </form>
    </section>
  );
}
