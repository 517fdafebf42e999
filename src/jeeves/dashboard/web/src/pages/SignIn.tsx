// The signed-out page: one button to Sign in with Slack, and why the last attempt failed.
const REASONS: Record<string, string> = {
  cancelled: "Sign-in was cancelled in Slack.",
  bad_state: "That sign-in link was used already, expired, or was started in another browser. Please try again.",
  code_refused: "Slack did not accept the sign-in. Please try again.",
  bad_nonce: "The answer from Slack did not belong to this sign-in. Please try again.",
  bad_id_token: "Slack's answer could not be verified. Please try again.",
  wrong_team: "This dashboard is for another Slack workspace.",
  slack_unavailable: "Slack cannot be reached right now. Please try again in a moment.",
};

export function SignIn() {
  const error = new URLSearchParams(window.location.search).get("signin_error");
  return (
    <main className="signin">
      <h1>Jeeves dashboard</h1>
      <p>See and steer Jeeves, and see and control what Jeeves knows about you.</p>
      {error && (
        <div role="alert" className="alert">
          <p>{REASONS[error] ?? "Sign-in did not work. Please try again."}</p>
        </div>
      )}
      <a className="button slack" href="/auth/login">
        Sign in with Slack
      </a>
    </main>
  );
}
