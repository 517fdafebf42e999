// Dead letters: jobs the dispatcher or poster gave up on; inspect, replay one or all.
import { useState } from "react";
import { api } from "../api";
import { useApi } from "../hooks";
import { Failure, Json, Loading, Notice, when } from "../ui";

interface Letter {
  service: string;
  id: number;
  entrypoint: string;
  payload: unknown;
  attempts: number;
  last_error: string;
  failed_at: string;
}

interface Listing {
  dead_letters: Letter[];
  sources: Record<string, string>;
}

interface Result {
  service: string;
  id: number;
  outcome: string;
}

export function DeadLetters() {
  const { data, error, loading, reload } = useApi<Listing>("/api/admin/dead-letters");
  const [open, setOpen] = useState<string | null>(null);
  const [note, setNote] = useState("");
  const [outcomes, setOutcomes] = useState<Record<string, string>>({});
  const [confirmAll, setConfirmAll] = useState(false);
  const replay = async (letter: Letter) => {
    const key = `${letter.service}/${letter.id}`;
    try {
      await api("POST", `/api/admin/dead-letters/${letter.service}/${letter.id}/replay`);
      setOutcomes((o) => ({ ...o, [key]: "replayed: queued again" }));
      setNote(`Replayed ${key}: it is queued again.`);
    } catch (e) {
      setOutcomes((o) => ({ ...o, [key]: `not replayed: ${(e as Error).message}` }));
    }
  };
  const replayAll = async () => {
    setConfirmAll(false);
    try {
      const answer = await api<{ results: Result[] }>("POST", "/api/admin/dead-letters/replay-all");
      const done = answer.results.filter((r) => r.outcome === "replayed").length;
      setNote(`Replayed ${done} of ${answer.results.length} dead letters.`);
      reload();
    } catch (e) {
      setNote((e as Error).message);
    }
  };
  return (
    <section>
      <p>Messages that could not be handled after every retry. Replaying puts one back in its queue.</p>
      {note && <Notice>{note}</Notice>}
      {loading && !data && <Loading what="dead letters" />}
      {error && <Failure message={error} retry={reload} />}
      {data && (
        <>
          <p className="note">
            {Object.entries(data.sources)
              .map(([service, state]) => `${service}: ${state}`)
              .join(" · ")}
          </p>
          <div className="toolbar">
            <button type="button" className="secondary" onClick={reload}>
              Refresh
            </button>
            {data.dead_letters.length > 0 &&
              (confirmAll ? (
                <span role="group" aria-label="Confirm replaying all">
                  Replay all {data.dead_letters.length}?{" "}
                  <button type="button" onClick={replayAll}>
                    Yes, replay all
                  </button>
                  <button type="button" className="secondary" onClick={() => setConfirmAll(false)}>
                    No
                  </button>
                </span>
              ) : (
                <button type="button" onClick={() => setConfirmAll(true)}>
                  Replay all
                </button>
              ))}
          </div>
          {data.dead_letters.length === 0 && <p className="empty">No dead letters. Everything was delivered.</p>}
          <ul className="cards">
            {data.dead_letters.map((letter) => {
              const key = `${letter.service}/${letter.id}`;
              return (
                <li key={key} className="card letter">
                  <h2>
                    {letter.service} job {letter.id}
                  </h2>
                  <p>
                    {letter.attempts} attempts · failed {when(letter.failed_at)}
                  </p>
                  <p className="mono error-text">{letter.last_error.split("\n").filter(Boolean).slice(-1)[0] || "no error text"}</p>
                  <button type="button" className="secondary" aria-expanded={open === key} onClick={() => setOpen(open === key ? null : key)}>
                    {open === key ? "Hide" : "Inspect"} {key}
                  </button>{" "}
                  <button type="button" onClick={() => replay(letter)} disabled={Boolean(outcomes[key])}>
                    Replay {key}
                  </button>
                  {outcomes[key] && <p role="status" className="outcome">{outcomes[key]}</p>}
                  {open === key && (
                    <div>
                      <h3>Payload</h3>
                      <Json value={letter.payload} />
                      <h3>Last error</h3>
                      <pre className="json">{letter.last_error}</pre>
                    </div>
                  )}
                </li>
              );
            })}
          </ul>
        </>
      )}
    </section>
  );
}
