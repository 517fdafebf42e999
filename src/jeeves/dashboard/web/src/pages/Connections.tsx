// Connected services: which third-party accounts Jeeves may use for me, and disconnecting one.
import { useState } from "react";
import { api } from "../api";
import { useApi } from "../hooks";
import { Failure, Loading, Notice, when } from "../ui";

interface Connection {
  provider: string;
  scopes: string[];
  expires_at: string | null;
  updated_at: string;
}

export function Connections() {
  const { data, error, loading, reload } = useApi<{ connections: Connection[] }>("/api/me/connections");
  const [note, setNote] = useState("");
  const disconnect = async (provider: string) => {
    try {
      await api("DELETE", `/api/me/connections/${encodeURIComponent(provider)}`);
      setNote(`Disconnected ${provider}.`);
      reload();
    } catch (e) {
      setNote((e as Error).message);
    }
  };
  return (
    <section>
      <p>Services you connected so Jeeves can act for you (their tokens are stored encrypted and never shown).</p>
      {note && <Notice>{note}</Notice>}
      {loading && !data && <Loading what="your connections" />}
      {error && <Failure message={error} retry={reload} />}
      {data && data.connections.length === 0 && (
        <p className="empty">No services are connected. Say “login” to Jeeves in Slack to connect one.</p>
      )}
      {data && data.connections.length > 0 && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Service</th>
                <th scope="col">Scopes</th>
                <th scope="col">Expires</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {data.connections.map((c) => (
                <tr key={c.provider}>
                  <th scope="row">{c.provider}</th>
                  <td>{c.scopes.join(", ") || "—"}</td>
                  <td>{when(c.expires_at)}</td>
                  <td>
                    <button type="button" className="danger" onClick={() => disconnect(c.provider)}>
                      Disconnect {c.provider}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
