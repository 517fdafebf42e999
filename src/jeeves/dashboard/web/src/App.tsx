// The shell: who is signed in, the navigation (admin pages only for admins), the page router.
import { useCallback, useEffect, useState } from "react";
import type { MouseEvent, ReactElement } from "react";
import { api, setCsrfToken, whenSignedOut } from "./api";
import type { SessionInfo } from "./api";
import { Failure, Loading } from "./ui";
import { SignIn } from "./pages/SignIn";
import { Usage } from "./pages/Usage";
import { Actions } from "./pages/Actions";
import { Flags } from "./pages/Flags";
import { DeadLetters } from "./pages/DeadLetters";
import { Audit } from "./pages/Audit";
import { Facts } from "./pages/Facts";
import { MyData } from "./pages/MyData";
import { Connections } from "./pages/Connections";

interface Page {
  path: string;
  title: string;
  admin: boolean;
  render: () => ReactElement;
}

const PAGES: Page[] = [
  { path: "/facts", title: "My facts", admin: false, render: () => <Facts /> },
  { path: "/my-data", title: "Export or forget", admin: false, render: () => <MyData /> },
  { path: "/connections", title: "Connected services", admin: false, render: () => <Connections /> },
  { path: "/usage", title: "Usage", admin: true, render: () => <Usage /> },
  { path: "/actions", title: "Actions", admin: true, render: () => <Actions /> },
  { path: "/flags", title: "Feature flags", admin: true, render: () => <Flags /> },
  { path: "/dead-letters", title: "Dead letters", admin: true, render: () => <DeadLetters /> },
  { path: "/audit", title: "Audit log", admin: true, render: () => <Audit /> },
];

function usePath(): [string, (path: string) => void] {
  const [path, setPath] = useState(window.location.pathname);
  useEffect(() => {
    const back = () => setPath(window.location.pathname);
    window.addEventListener("popstate", back);
    return () => window.removeEventListener("popstate", back);
  }, []);
  const go = useCallback((to: string) => {
    window.history.pushState(null, "", to);
    setPath(to);
  }, []);
  return [path, go];
}

export function App() {
  const [session, setSession] = useState<SessionInfo | null>(null);
  const [state, setState] = useState<"loading" | "out" | "in" | "error">("loading");
  const [problem, setProblem] = useState("");
  const [path, go] = usePath();

  const load = useCallback(() => {
    setState("loading");
    api<SessionInfo>("GET", "/api/session")
      .then((info) => {
        setCsrfToken(info.csrf_token);
        setSession(info);
        setState("in");
      })
      .catch((e: { status?: number; message: string }) => {
        if (e.status === 401) {
          setState("out");
        } else {
          setProblem(e.message);
          setState("error");
        }
      });
  }, []);

  useEffect(() => {
    whenSignedOut(() => {
      setSession(null);
      setState("out");
    });
    load();
  }, [load]);

  const signOut = async () => {
    try {
      await api("DELETE", "/api/session");
    } finally {
      setSession(null);
      setState("out");
      go("/");
    }
  };

  if (state === "loading") {
    return (
      <main className="boot">
        <Loading what="your session" />
      </main>
    );
  }
  if (state === "error") {
    return (
      <main className="boot">
        <h1>Jeeves dashboard</h1>
        <Failure message={problem} retry={load} />
      </main>
    );
  }
  if (state === "out" || session === null) return <SignIn />;

  const user = session.user;
  const visible = PAGES.filter((p) => !p.admin || user.is_admin);
  const home = user.is_admin ? "/usage" : "/facts";
  const current = visible.find((p) => p.path === path) ?? visible.find((p) => p.path === home)!;
  const forbidden = PAGES.some((p) => p.path === path && p.admin) && !user.is_admin;
  const follow = (to: string) => (event: MouseEvent<HTMLAnchorElement>) => {
    event.preventDefault();
    go(to);
    document.getElementById("page-title")?.focus();
  };

  return (
    <>
      <a className="skip" href="#page-title">
        Skip to content
      </a>
      <header className="top">
        <p className="brand">Jeeves</p>
        <p className="who">
          Signed in as <strong>{user.name}</strong>{" "}
          <span className="role">{user.is_admin ? "admin" : "user"}</span>
        </p>
        <button type="button" className="secondary" onClick={signOut}>
          Sign out
        </button>
      </header>
      <div className="layout">
        <nav aria-label="Pages">
          <p className="nav-group">You</p>
          <ul>
            {visible
              .filter((p) => !p.admin)
              .map((p) => (
                <li key={p.path}>
                  <a href={p.path} onClick={follow(p.path)} aria-current={p === current ? "page" : undefined}>
                    {p.title}
                  </a>
                </li>
              ))}
          </ul>
          {user.is_admin && (
            <>
              <p className="nav-group">Admin</p>
              <ul>
                {visible
                  .filter((p) => p.admin)
                  .map((p) => (
                    <li key={p.path}>
                      <a href={p.path} onClick={follow(p.path)} aria-current={p === current ? "page" : undefined}>
                        {p.title}
                      </a>
                    </li>
                  ))}
              </ul>
            </>
          )}
        </nav>
        <main>
          <h1 id="page-title" tabIndex={-1}>
            {current.title}
          </h1>
          {forbidden && <Failure message="That page is for Jeeves admins; here are your own pages." />}
          {current.render()}
        </main>
      </div>
    </>
  );
}
