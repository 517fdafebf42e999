// Actions: the live registry from etcd, and the JeevesAction status when the operator runs.
import { useApi } from "../hooks";
import { Failure, Loading } from "../ui";

interface Action {
  name: string;
  error?: string;
  keywords?: string[];
  url?: string;
  description?: string;
  enabled?: boolean;
  timeout_s?: number;
  canary?: { url: string; percent: number } | null;
  kubernetes?: { ready: boolean; ready_replicas: number; replicas: number } | null;
}

const KUBE: Record<string, string> = {
  not_configured: "Operator status: no Kubernetes API is configured, so JeevesAction status is not shown.",
  unavailable: "Operator status: the Kubernetes API cannot be reached right now.",
  ok: "Operator status from the JeevesAction resources.",
};

export function Actions() {
  const { data, error, loading, reload } = useApi<{ actions: Action[]; kubernetes: string }>("/api/admin/actions");
  return (
    <section>
      <p>What Jeeves can do right now: the registry in etcd, as the dispatcher routes with it.</p>
      {loading && !data && <Loading what="the action registry" />}
      {error && <Failure message={error} retry={reload} />}
      {data && (
        <>
          <p className="note">{KUBE[data.kubernetes] ?? data.kubernetes}</p>
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Action</th>
                  <th scope="col">Keywords</th>
                  <th scope="col">Enabled</th>
                  <th scope="col">Canary</th>
                  <th scope="col">URL</th>
                  {data.kubernetes === "ok" && <th scope="col">Ready</th>}
                </tr>
              </thead>
              <tbody>
                {data.actions.length === 0 && (
                  <tr>
                    <td colSpan={6}>No actions are registered.</td>
                  </tr>
                )}
                {data.actions.map((a) => (
                  <tr key={a.name}>
                    <th scope="row">
                      {a.name}
                      {a.description && <div className="sub">{a.description}</div>}
                    </th>
                    {a.error ? (
                      <td colSpan={4} className="error-text">
                        Invalid registration: {a.error}
                      </td>
                    ) : (
                      <>
                        <td>{a.keywords?.join(", ")}</td>
                        <td>{a.enabled ? "yes" : "no (turned off)"}</td>
                        <td>{a.canary ? `${a.canary.percent}% → ${a.canary.url}` : "—"}</td>
                        <td className="mono">{a.url}</td>
                      </>
                    )}
                    {data.kubernetes === "ok" && (
                      <td>
                        {a.kubernetes
                          ? `${a.kubernetes.ready ? "ready" : "not ready"} (${a.kubernetes.ready_replicas}/${a.kubernetes.replicas})`
                          : "no JeevesAction"}
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}
