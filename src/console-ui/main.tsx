/** The web console's entry point (docs/console.md): sign-in, navigation, and the hash router. */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { currentSession, signIn, signOut, whenSignedOut } from './api';
import { FunctionPage } from './function-page';
import { useHashRoute } from './hooks';
import { PlatformPage } from './platform';
import { ServicesPage, StagePage } from './services';
import { TaskPage, TasksPage } from './tasks';

function SignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState('');
  return (
    <main id="main" class="signin">
      <h1>Nimbus console</h1>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          setError('');
          if (await signIn(token)) {
            setToken('');
            onSignedIn();
          } else setError('That token was not accepted.');
        }}
      >
        <label>
          Admin token
          <input
            type="password"
            name="token"
            autocomplete="current-password"
            required
            value={token}
            onInput={(e) => setToken((e.target as HTMLInputElement).value)}
          />
        </label>
        <button type="submit" class="primary">
          Sign in
        </button>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <p class="muted">
          The token is printed by <code>nimbus server</code> and kept in the data directory's
          admin-token file. It is exchanged for a session cookie; the browser never keeps it.
        </p>
      </form>
    </main>
  );
}

function Page({ route }: { route: string[] }) {
  const [area, a, b] = route;
  if (area === 'services' && a && b) return <StagePage service={a} stage={b} />;
  if (area === 'functions' && a) return <FunctionPage name={a} />;
  if (area === 'tasks' && a) return <TaskPage id={a} />;
  if (area === 'tasks') return <TasksPage />;
  if (area === 'platform') return <PlatformPage />;
  return <ServicesPage />;
}

function App() {
  const [signedIn, setSignedIn] = useState<boolean | undefined>(undefined);
  const route = useHashRoute();
  useEffect(() => {
    whenSignedOut(() => setSignedIn(false));
    currentSession().then(setSignedIn, () => setSignedIn(false));
  }, []);
  if (signedIn === undefined) return <p class="muted">Loading…</p>;
  if (!signedIn) return <SignIn onSignedIn={() => setSignedIn(true)} />;
  const area = route[0] ?? '';
  const link = (to: string, label: string, match: string[]) => (
    <a href={to} aria-current={match.includes(area) ? 'page' : undefined}>
      {label}
    </a>
  );
  return (
    <>
      <button type="button" class="skip" onClick={() => document.getElementById('main')?.focus()}>
        Skip to content
      </button>
      <header>
        <strong class="brand">Nimbus</strong>
        <nav aria-label="main">
          {link('#/', 'Services', ['', 'services', 'functions'])}
          {link('#/tasks', 'Async tasks', ['tasks'])}
          {link('#/platform', 'Platform', ['platform'])}
        </nav>
        <button
          type="button"
          class="signout"
          onClick={async () => {
            await signOut();
            setSignedIn(false);
          }}
        >
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        <Page route={route} />
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
